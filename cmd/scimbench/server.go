package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	appName = "bench"
	// startTimeout bounds the wait for /healthz; a fresh SQLite database
	// opens in well under a second.
	startTimeout = 30 * time.Second
	// stopGrace is how long the server gets to shut down on SIGTERM before
	// it is killed.
	stopGrace = 10 * time.Second
	// logTailLines is how much of the server log is shown on failure.
	logTailLines = 40
)

// server is a scimbridge child process on a scratch directory.
type server struct {
	dir     string
	keep    bool
	out     io.Writer // for notes such as where the kept directory is
	logPath string
	dbPath  string // the server's SQLite database
	origin  string // http://127.0.0.1:PORT
	token   string
	admin   string // an admin token, for the console
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has exited
	waitErr error         // the process's exit status, once exited is closed

	stopOnce sync.Once
	stopped  stopResult
}

// stopResult is what remains of the server once it is stopped.
type stopResult struct {
	exitErr error    // a non-clean exit, or nil
	log     []string // the whole server log (warn level and above)
}

// binaryVersion runs "<binary> version", which also proves the binary runs.
func binaryVersion(ctx context.Context, binary string) (string, error) {
	out, err := runCommand(ctx, binary, "version")
	if err != nil {
		return "", fmt.Errorf("binary %s: %w (build it with make build)", binary, err)
	}
	return out, nil
}

// runCommand runs a short command and returns its trimmed stdout; its
// stderr goes into the error.
func runCommand(ctx context.Context, name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// startServer writes a config into a new temporary directory, creates a
// token, starts "<binary> serve" and waits until /healthz answers. On
// error nothing is left running; the directory stays only with keep.
func startServer(ctx context.Context, binary string, keep bool, hc *http.Client, out io.Writer) (*server, error) {
	dir, err := os.MkdirTemp("", "scimbench-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	s := &server{dir: dir, keep: keep, out: out, logPath: filepath.Join(dir, "server.log"),
		dbPath: filepath.Join(dir, "bench.db"), exited: make(chan struct{})}
	if err := s.start(ctx, binary, hc); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) start(ctx context.Context, binary string, hc *http.Client) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.origin = fmt.Sprintf("http://127.0.0.1:%d", port)
	cfgPath := filepath.Join(s.dir, "scimbridge.yaml")
	if err := writeConfig(cfgPath, port, s.dbPath); err != nil {
		return err
	}
	s.token, err = runCommand(ctx, binary, "token", "create", "-config", cfgPath, "-app", appName)
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	s.admin, err = runCommand(ctx, binary, "token", "create", "-config", cfgPath, "-admin", "-name", "bench")
	if err != nil {
		return fmt.Errorf("create admin token: %w", err)
	}
	if err := s.spawn(binary, cfgPath); err != nil {
		return err
	}
	if err := s.waitHealthy(ctx, hc); err != nil {
		return fmt.Errorf("%w\n%s", err, s.logTail())
	}
	return nil
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server binds it; the server then fails to start with
// a clear log line.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func writeConfig(path string, port int, db string) error {
	cfg := fmt.Sprintf(`# Written by scimbench.
listen: 127.0.0.1:%d
public_url: http://127.0.0.1:%d
database: %q
log: {level: warn, format: json}
apps:
  - name: %s
    profile: manual
`, port, port, db, appName)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// spawn starts "serve" with its output in the log file. The process is not
// tied to a context: stop ends it with SIGTERM so that it shuts down as in
// production.
func (s *server) spawn(binary, cfgPath string) error {
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	s.cmd = exec.Command(binary, "serve", "-config", cfgPath)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	return nil
}

func (s *server) waitHealthy(ctx context.Context, hc *http.Client) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		err := s.healthy(ctx, hc)
		if err == nil {
			return nil
		}
		if ctx.Err() == nil { // keep the reason, not the final timeout
			last = err
		}
		select {
		case <-s.exited:
			return fmt.Errorf("the server exited while starting (%v)", s.waitErr)
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("the server did not answer GET /healthz with 200 within %v (last: %v)", startTimeout, last)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (s *server) healthy(ctx context.Context, hc *http.Client) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.origin+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /healthz: %s", resp.Status)
	}
	return nil
}

// pid is the server's process id, or 0 if it never started.
func (s *server) pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// running reports whether the server process is still alive.
func (s *server) running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return s.pid() != 0
	}
}

// stop ends the server (SIGTERM, then SIGKILL after stopGrace), reads its
// log and removes the directory unless keep. It is safe to call more than
// once; later calls return the first result.
func (s *server) stop() stopResult {
	s.stopOnce.Do(func() {
		s.stopped.exitErr = s.terminate()
		s.stopped.log, _ = readLines(s.logPath)
		if s.keep {
			fmt.Fprintf(s.out, "scimbench: kept %s (config, database, server.log)\n", s.dir)
			return
		}
		os.RemoveAll(s.dir)
	})
	return s.stopped
}

func (s *server) terminate() error {
	if s.pid() == 0 {
		return nil
	}
	select {
	case <-s.exited:
		return fmt.Errorf("the server had already exited: %v", s.waitErr)
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if s.waitErr != nil {
			return fmt.Errorf("the server exited badly on SIGTERM: %w", s.waitErr)
		}
		return nil
	case <-time.After(stopGrace):
	}
	s.cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("the server did not stop within %v of SIGTERM and was killed", stopGrace)
}

// logTail returns the end of the server log for error messages.
func (s *server) logTail() string {
	lines, err := readLines(s.logPath)
	if err != nil {
		return fmt.Sprintf("(server log unreadable: %v)", err)
	}
	if len(lines) == 0 {
		return "(the server log is empty)"
	}
	lines = lines[max(0, len(lines)-logTailLines):]
	return "server log (" + s.logPath + "), last lines:\n  " + strings.Join(lines, "\n  ")
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20) // panic stacks make long lines
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}
