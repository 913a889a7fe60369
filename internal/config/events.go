package config

import (
	"fmt"
	"strings"
	"time"
)

// EventsConfig are the settings of the event outbox, subscriptions and
// webhooks (SPEC §7).
type EventsConfig struct {
	// ExpiryNotice is how long before an expiresAt the expiring_soon
	// events are sent (EXPIRY_NOTICE, 7 days).
	ExpiryNotice time.Duration
	// Retention is how long events (and their webhook deliveries) are
	// kept (EVENT_RETENTION, 30 days).
	Retention time.Duration
	// JobInterval is how often the notices and pruning job runs
	// (EVENT_JOB_INTERVAL, 1 minute).
	JobInterval time.Duration
	// WebhookAllowPrivate lets webhook URLs reach private, loopback and
	// link-local addresses (WEBHOOK_ALLOW_PRIVATE, false).
	WebhookAllowPrivate bool
	// WebhookSchedule is the wait before each webhook retry
	// (WEBHOOK_RETRY_SCHEDULE, comma-separated durations; empty: the
	// Standard Webhooks schedule 5s,5m,30m,2h,5h,10h,10h).
	WebhookSchedule []time.Duration
	// WebhookDisableAfter disables an endpoint failing for this long
	// (WEBHOOK_DISABLE_AFTER, 24h).
	WebhookDisableAfter time.Duration
	// StreamRecheck is how often an open subscription's credentials are
	// checked again (STREAM_RECHECK, 1 minute): a revoked API key ends its
	// streams within it; a token ends them at its expiry.
	StreamRecheck time.Duration
}

func (e env) events() EventsConfig {
	c := EventsConfig{
		ExpiryNotice:        e.duration("EXPIRY_NOTICE", 7*24*time.Hour),
		Retention:           e.duration("EVENT_RETENTION", 30*24*time.Hour),
		JobInterval:         e.duration("EVENT_JOB_INTERVAL", time.Minute),
		WebhookAllowPrivate: e.bool("WEBHOOK_ALLOW_PRIVATE", false),
		WebhookDisableAfter: e.duration("WEBHOOK_DISABLE_AFTER", 24*time.Hour),
		StreamRecheck:       e.duration("STREAM_RECHECK", time.Minute),
	}
	if v := e.str("WEBHOOK_RETRY_SCHEDULE", ""); v != "" {
		for _, part := range strings.Split(v, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(part))
			if err != nil || d <= 0 {
				*e.errs = append(*e.errs, fmt.Errorf("WEBHOOK_RETRY_SCHEDULE: %q is not a list of positive durations such as 5s,5m,30m", v))
				break
			}
			c.WebhookSchedule = append(c.WebhookSchedule, d)
		}
	}
	return c
}
