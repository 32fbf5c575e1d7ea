package ops

import (
	"context"
	"log/slog"
)

// Auditor writes one structured line per change an operator makes: who
// (the operator), what (the event and its subject), from which request id
// and source. It never carries a password or a hash.
type Auditor struct {
	Log       *slog.Logger
	Actor     string // the operator, such as cli:alice@host
	RequestID string // one per CLI invocation
	Source    string // where the change came from (host name)
}

// WithAudit makes every change of a write an audit line.
func (a *Admin) WithAudit(au *Auditor) *Admin {
	a.audit = au
	return a
}

// Event writes one audit line; a nil Auditor writes nothing.
func (au *Auditor) Event(ctx context.Context, event string, attrs ...any) {
	if au == nil || au.Log == nil {
		return
	}
	au.Log.InfoContext(ctx, "audit", append([]any{"event", event, "actor", au.Actor,
		"request_id", au.RequestID, "source", au.Source}, attrs...)...)
}
