package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/notify"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// overdueInterval is how often the server looks for tasks past their
// deadline.
const overdueInterval = time.Minute

// pruneInterval is how often processed change events older than the
// retention are deleted.
const pruneInterval = 10 * time.Minute

// startNotifier starts, beside the server, the sender of webhook
// notifications, the check for overdue tasks and the pruning of the
// outbox. Neither holds up the
// server or the engine: both only read and write the database. delivered,
// when set, learns each webhook request's outcome. The returned function
// stops them and waits; call it before the database closes.
func startNotifier(cfg *config.Config, getenv func(string) string, db *sqlite.DB, eng *engine.Engine,
	delivered func(webhook string, ok bool), log *slog.Logger) (stop func(), err error) {
	secrets, err := cfg.ReadWebhookSecrets(getenv)
	if err != nil {
		return nil, err
	}
	hooks := make([]notify.Webhook, len(cfg.Webhooks))
	labels := make([]string, len(cfg.Webhooks))
	for i, h := range cfg.Webhooks {
		hooks[i] = notify.Webhook{URL: h.URL, Secret: secrets[i], Events: h.Events, Apps: h.Apps, Format: h.Format}
		labels[i] = hooks[i].Label()
	}
	// Without webhooks the sender still runs: it marks notifications
	// as having no one to go to and deletes old ones.
	sender, err := notify.New(db, hooks, log, notify.Options{UserAgent: "scimbridge/" + version(), Delivered: delivered})
	if err != nil {
		return nil, err
	}
	if len(hooks) > 0 {
		log.Info("webhooks", "count", len(hooks), "receivers", labels)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); sender.Run(ctx) }()
	go func() { defer wg.Done(); eng.WatchOverdue(ctx, overdueInterval) }()
	if cfg.Retention > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); eng.WatchOutbox(ctx, cfg.Retention, pruneInterval) }()
	}
	return func() { cancel(); wg.Wait() }, nil
}
