package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ReloadInterval is how often Watch looks at the access file: well within the 5 s a change may take.
const ReloadInterval = 2 * time.Second

// Access is the access file in force. Reload swaps it whole, so each request sees one version of the file or
// the next, never a mix; a request in flight keeps the caller it was admitted as.
type Access struct {
	path    string
	current atomic.Pointer[AccessFile]
	reload  sync.Mutex // one reload at a time (the poller and SIGHUP)
	// OnReload, when set (before Watch starts), is told of each reload that put a new file in force
	// ("changed") or could not ("error"); the polls that found the file unchanged are not worth a count.
	OnReload func(result string)
}

// OpenAccess loads the access file at path; a file that is missing or does not parse is an error.
func OpenAccess(path string) (*Access, error) {
	f, err := LoadAccessFile(path)
	if err != nil {
		return nil, err
	}
	return NewAccess(path, f), nil
}

// NewAccess is an Access holding f, read from path.
func NewAccess(path string, f *AccessFile) *Access {
	a := &Access{path: path}
	a.current.Store(f)
	return a
}

// Path is the file's path, as configured.
func (a *Access) Path() string { return a.path }

// Load returns the access file in force.
func (a *Access) Load() *AccessFile { return a.current.Load() }

// Store puts f in force from the next request on.
func (a *Access) Store(f *AccessFile) { a.current.Store(f) }

// Reload reads the file again and puts it in force if its content changed. A file that cannot be read or
// parsed leaves the one in force as it is, and is returned as the error.
func (a *Access) Reload() (changed bool, err error) {
	a.reload.Lock()
	defer a.reload.Unlock()
	changed, err = a.reloadLocked()
	switch {
	case a.OnReload == nil:
	case err != nil:
		a.OnReload("error")
	case changed:
		a.OnReload("changed")
	}
	return changed, err
}

func (a *Access) reloadLocked() (changed bool, err error) {
	data, err := os.ReadFile(a.path)
	if err != nil {
		return false, err
	}
	if digest := sha256.Sum256(data); bytes.Equal(digest[:], a.Load().digest[:]) {
		return false, nil
	}
	f, err := ParseAccessFile(data)
	if err != nil {
		return false, err
	}
	a.Store(f)
	return true, nil
}

// ReloadAndLog reloads (see Reload), as SIGHUP asks, and logs what came of it.
func (a *Access) ReloadAndLog(ctx context.Context, logger *slog.Logger) {
	changed, err := a.Reload()
	a.logReload(ctx, logger, changed, err, true)
}

// Watch polls the file every interval until ctx ends. Reading the content (not only its modification time)
// sees every kind of change, including the symlink swap of a Kubernetes or Azure volume. A broken file is
// logged once per distinct problem, not every interval.
func (a *Access) Watch(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	lastErr := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		changed, err := a.Reload()
		if err != nil && err.Error() == lastErr {
			continue
		}
		lastErr = ""
		if err != nil {
			lastErr = err.Error()
		}
		a.logReload(ctx, logger, changed, err, false)
	}
}

// logReload says what a reload did: an error keeps the previous file in force.
func (a *Access) logReload(ctx context.Context, logger *slog.Logger, changed bool, err error, logUnchanged bool) {
	switch {
	case err != nil:
		logger.LogAttrs(ctx, slog.LevelError, "access file not reloaded: the previous one stays in force",
			slog.String("path", a.path), slog.String("error", err.Error()))
	case changed:
		f := a.Load()
		logger.LogAttrs(ctx, slog.LevelInfo, "access file reloaded",
			slog.String("path", a.path), slog.Int("keys", len(f.Keys)), slog.Int("identities", len(f.Identities)))
	case logUnchanged:
		logger.LogAttrs(ctx, slog.LevelInfo, "access file unchanged", slog.String("path", a.path))
	}
}
