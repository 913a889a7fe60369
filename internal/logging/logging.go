// Package logging carries each request's structured logger (with its
// request id) in the context, and folds the problems a request logs into
// its one request line, so a request that fails in 2,000 fields writes one
// line that counts them, not 2,000.
package logging

import (
	"context"
	"fmt"
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
// Records of the same level, message and error text (the "error"
// attribute) are one problem with a count; the first record's attributes
// stand for all of them. So 2,000 fields failing over one cause make one
// problem, and a second, different failure is a problem of its own.
type Problems struct {
	mu      sync.Mutex
	list    []*problem
	dropped int
}

type problem struct {
	level slog.Level
	msg   string
	err   string // the "error" attribute's text
	attrs []slog.Attr
	count int
}

// Folding returns a logger that writes through base, with attrs on each
// line, except that records at info level or above are kept in the
// returned Problems instead of written, for the request's one line to
// report (see Problems.Attr); only debug lines (such as each SQL
// statement) are written on their own. base's handler gets attrs only
// when the first such line is written: most requests write none, and a
// handler with attributes is a copy of the handler with them formatted.
func Folding(base *slog.Logger, attrs ...slog.Attr) (*slog.Logger, *Problems) {
	p := &Problems{}
	return slog.New(&folder{base: base.Handler(), with: attrs, problems: p}), p
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
			m[a.Key] = plain(a.Value)
		}
		out = append(out, m)
	}
	if p.dropped > 0 {
		out = append(out, map[string]any{"msg": "other problems", "count": p.dropped})
	}
	return slog.Any("problems", out), true
}

func (p *Problems) add(r slog.Record, attrs []slog.Attr) {
	all := append([]slog.Attr(nil), attrs...)
	r.Attrs(func(a slog.Attr) bool {
		all = append(all, a)
		return true
	})
	errText := ""
	for _, a := range all {
		if a.Key == "error" {
			errText = fmt.Sprint(plain(a.Value))
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.list {
		if pr.level == r.Level && pr.msg == r.Message && pr.err == errText {
			pr.count++
			return
		}
	}
	if len(p.list) >= maxProblems {
		p.dropped++
		return
	}
	p.list = append(p.list, &problem{level: r.Level, msg: r.Message, err: errText, attrs: all, count: 1})
}

// plain is v as a value any encoder writes as the handler would have: an
// error as its text (JSON would write most errors as {}), a group as a
// map, a string, number, bool, duration or time as itself, anything else
// as fmt.Sprint writes it.
func plain(v slog.Value) any {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		m := map[string]any{}
		for _, a := range v.Group() {
			m[a.Key] = plain(a.Value)
		}
		return m
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return x.Error()
		case string, bool, int, int32, int64, uint, uint32, uint64, float32, float64:
			return x
		case nil:
			return nil
		default:
			return fmt.Sprint(x)
		}
	default:
		return v.Any()
	}
}

// folder is the slog.Handler of Folding.
type folder struct {
	base     slog.Handler // what lines are written through, without with
	with     []slog.Attr  // the attributes of every written line
	problems *Problems
	attrs    []slog.Attr // added by WithAttrs, for problems (groups are flattened)

	once sync.Once
	next slog.Handler // base with with, made for the first written line
}

func (f *folder) handler() slog.Handler {
	f.once.Do(func() {
		f.next = f.base
		if len(f.with) > 0 {
			f.next = f.base.WithAttrs(f.with)
		}
	})
	return f.next
}

func (f *folder) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || f.base.Enabled(ctx, l)
}

func (f *folder) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		f.problems.add(r, f.attrs)
		return nil
	}
	return f.handler().Handle(ctx, r)
}

func (f *folder) WithAttrs(as []slog.Attr) slog.Handler {
	return &folder{base: f.handler().WithAttrs(as), problems: f.problems, attrs: append(append([]slog.Attr(nil), f.attrs...), as...)}
}

func (f *folder) WithGroup(name string) slog.Handler {
	return &folder{base: f.handler().WithGroup(name), problems: f.problems, attrs: f.attrs}
}
