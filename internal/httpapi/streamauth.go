package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"seatgraph/internal/auth"
)

// minRecheck keeps a lapsing token's checks from spinning when the clock
// and its expiry disagree by less than a tick.
const minRecheck = time.Second

// watchCredentials ends a stream (by calling lapsed, once) when the
// credentials it was opened with stop being accepted: a token at its
// expiry (p.Until), an API key once revoked or expired, found by checking
// header again every recheck (1 minute when zero). A check that cannot
// reach the database keeps the stream (the next one decides) until the
// credentials' own end (p.Until, an API key's expiry) has passed. It
// stops when ctx (the connection) ends.
func watchCredentials(ctx context.Context, authn *auth.Authenticator, header string, p *auth.Principal,
	recheck time.Duration, lapsed func(reason string)) {
	if recheck <= 0 {
		recheck = time.Minute
	}
	go func() {
		until := p.Until
		for {
			wait := recheck
			if !until.IsZero() {
				wait = min(wait, time.Until(until))
			}
			t := time.NewTimer(max(wait, minRecheck))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			q, err := authn.Authenticate(ctx, header)
			switch {
			case errors.Is(err, auth.ErrUnauthenticated):
				lapsed("credentials no longer accepted: " + auth.Reason(err))
				return
			case err == nil:
				until = q.Until
			case !until.IsZero() && !time.Now().Before(until):
				// The database cannot be asked, but the credentials'
				// own end is known: an expired key stays expired.
				lapsed("credentials no longer accepted: expired")
				return
			}
		}
	}()
}

// endWhenLapsed ends a Server-Sent Events stream authenticated by its
// Authorization header when those credentials lapse (watchCredentials):
// the stream's context is cancelled, and the response ends.
func endWhenLapsed(authn *auth.Authenticator, recheck time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if p == nil || r.Header.Get("Upgrade") != "" {
			// WebSockets are watched from connection_init (wsInit).
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		watchCredentials(ctx, authn, r.Header.Get("Authorization"), p, recheck, func(string) { cancel() })
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
