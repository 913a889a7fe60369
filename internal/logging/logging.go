// Package logging carries each request's structured logger (with its
// request id) in the context, and folds the problems a request logs into
// its one request line, so a request that fails in 2,000 fields writes one
// line that counts them, not 2,000.
package logging

import (
	"context"
	"log/slog"
	"sync"
)

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the request's logger, or the default logger outside a request.
func From(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// maxProblems is how many distinct problems a request line lists; more
// are counted in the last one's total only.
const maxProblems = 10

// Problems collects what was logged during one request at info level or
// above (refused credentials, warnings, errors).
// Records of the same level and message are one problem with a count;
// the first record's attributes stand for all of them.
type Problems struct {
	mu      sync.Mutex
	list    []*problem
	dropped int
}

type problem struct {
	level slog.Level
	msg   string
	attrs []slog.Attr
	count int
}

// Folding returns a logger that writes through base, except that records
// at info level or above are kept in the returned Problems instead of
// written, for the request's one line to report (see Problems.Attr); only
// debug lines (such as each SQL statement) are written on their own.
func Folding(base *slog.Logger) (*slog.Logger, *Problems) {
	p := &Problems{}
	return slog.New(&folder{next: base.Handler(), problems: p}), p
}

// Level is the level the request line should have: the highest of the
// problems' levels, and at least min.
func (p *Problems) Level(min slog.Level) slog.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.list {
		if pr.level > min {
			min = pr.level
		}
	}
	return min
}

// Attr is the problems as one attribute ("problems": a list of
// {level, msg, count, …first record's attributes}), or false when there
// were none.
func (p *Problems) Attr() (slog.Attr, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.list) == 0 {
		return slog.Attr{}, false
	}
	out := make([]any, 0, len(p.list))
	for _, pr := range p.list {
		m := map[string]any{"level": pr.level.String(), "msg": pr.msg, "count": pr.count}
		for _, a := range pr.attrs {
			m[a.Key] = a.Value.Resolve().Any()
		}
		out = append(out, m)
	}
	if p.dropped > 0 {
		out = append(out, map[string]any{"msg": "other problems", "count": p.dropped})
	}
	return slog.Any("problems", out), true
}

func (p *Problems) add(r slog.Record, attrs []slog.Attr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.list {
		if pr.level == r.Level && pr.msg == r.Message {
			pr.count++
			return
		}
	}
	if len(p.list) >= maxProblems {
		p.dropped++
		return
	}
	all := append([]slog.Attr(nil), attrs...)
	r.Attrs(func(a slog.Attr) bool {
		all = append(all, a)
		return true
	})
	p.list = append(p.list, &problem{level: r.Level, msg: r.Message, attrs: all, count: 1})
}

// folder is the slog.Handler of Folding.
type folder struct {
	next     slog.Handler
	problems *Problems
	attrs    []slog.Attr // added by WithAttrs, for problems (groups are flattened)
}

func (f *folder) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || f.next.Enabled(ctx, l)
}

func (f *folder) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		f.problems.add(r, f.attrs)
		return nil
	}
	return f.next.Handle(ctx, r)
}

func (f *folder) WithAttrs(as []slog.Attr) slog.Handler {
	return &folder{next: f.next.WithAttrs(as), problems: f.problems, attrs: append(append([]slog.Attr(nil), f.attrs...), as...)}
}

func (f *folder) WithGroup(name string) slog.Handler {
	return &folder{next: f.next.WithGroup(name), problems: f.problems, attrs: f.attrs}
}
