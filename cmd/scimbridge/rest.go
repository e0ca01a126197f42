package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/rest"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
)

// executorREST is the name of the executor of apps with an HTTP API.
const executorREST = "rest"

// restByApp carries out each app's tasks with that app's API.
type restByApp map[string]*rest.Executor

func (r restByApp) Execute(ctx context.Context, t task.Task, a account.Account) (engine.Result, error) {
	x, ok := r[t.App]
	if !ok {
		return engine.Result{}, engine.Refused(fmt.Errorf("app %s has no API configured", t.App))
	}
	return x.Execute(ctx, t, a)
}

// restExecutors builds the API executor of every app that has one,
// reading its secrets; nil when no app has one.
func restExecutors(cfg *config.Config, getenv func(string) string, log *slog.Logger) (engine.Executor, error) {
	byApp := restByApp{}
	for _, a := range cfg.Apps {
		if a.REST == nil {
			continue
		}
		secrets, err := cfg.ReadRESTSecrets(a, getenv)
		if err != nil {
			return nil, err
		}
		actions := map[string]rest.Action{}
		for kind, act := range a.REST.Actions {
			actions[kind] = rest.Action{Method: act.Method, URL: act.URL, Headers: act.Headers, Body: act.Body,
				IDField: act.IDField, Success: act.Success, Retry: act.Retry}
		}
		x, err := rest.New(rest.Config{App: a.Name, Base: a.REST.BaseURL, Actions: actions, Secrets: secrets,
			RatePerMinute: a.REST.RatePerMinute, Timeout: a.REST.TimeoutValue, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("%s: app %q: %w", cfg.Path, a.Name, err)
		}
		byApp[a.Name] = x
	}
	if len(byApp) == 0 {
		return nil, nil
	}
	return byApp, nil
}
