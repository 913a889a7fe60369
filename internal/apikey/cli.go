package apikey

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"seatgraph/internal/auth"
)

// DefaultTTL is the lifetime of a key minted without --ttl.
const DefaultTTL = 90 * 24 * time.Hour

// Command runs "seatgraph apikey create|list|revoke" on s. The minted key
// is the only thing written to stdout, so that scripts can capture it;
// everything else goes to stderr (create) or stdout (list, revoke).
func Command(ctx context.Context, s *Store, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("apikey: want create, list or revoke")
	}
	switch args[0] {
	case "create":
		return create(ctx, s, args[1:], stdout, stderr)
	case "list":
		return list(ctx, s, args[1:], stdout)
	case "revoke":
		return revoke(ctx, s, args[1:], stdout)
	}
	return fmt.Errorf("apikey: unknown subcommand %q (want create, list or revoke)", args[0])
}

func create(ctx context.Context, s *Store, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "tenant the key is bound to (required)")
	app := fs.String("app", "", "application the key is bound to (its reads see only that app's records)")
	scopes := fs.String("scopes", auth.ScopeLicensesRead+" "+auth.ScopeDirectoryRead, "space-separated scopes")
	ttl := fs.Duration("ttl", DefaultTTL, "lifetime, e.g. 720h; 0 for a key that never expires")
	name := fs.String("name", "", "a label to recognise the key by")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("apikey create: unexpected argument %q", fs.Arg(0))
	}
	key, k, err := s.Create(ctx, CreateRequest{Tenant: *tenant, App: *app, Name: *name,
		Scopes: strings.Fields(*scopes), TTL: *ttl, CreatedBy: "cli:" + osUser()})
	if err != nil {
		return fmt.Errorf("apikey create: %w", err)
	}
	fmt.Fprintln(stdout, key)
	expires := "never"
	if k.ExpiresAt != nil {
		expires = k.ExpiresAt.Format(time.RFC3339)
	}
	fmt.Fprintf(stderr, "created API key %s for tenant %q (scopes: %s; expires: %s).\n"+
		"The key above is shown only now: store it; send it as \"Authorization: ApiKey <key>\".\n",
		k.PublicID(), k.TenantID, strings.Join(k.Scopes, " "), expires)
	return nil
}

func list(ctx context.Context, s *Store, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("apikey list", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "only this tenant's keys")
	if err := fs.Parse(args); err != nil {
		return err
	}
	keys, err := s.List(ctx, *tenant)
	if err != nil {
		return fmt.Errorf("apikey list: %w", err)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTENANT\tAPP\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.PublicID(), k.TenantID, orDash(k.AppID), dash(k.Name),
			strings.Join(k.Scopes, " "), k.CreatedAt.UTC().Format(time.RFC3339), when(k.ExpiresAt),
			when(k.LastUsedAt), k.Status(now))
	}
	return tw.Flush()
}

func revoke(ctx context.Context, s *Store, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("apikey revoke: want exactly one key id (key_…)")
	}
	k, err := s.Revoke(ctx, args[0])
	if err != nil {
		return fmt.Errorf("apikey revoke: %w", err)
	}
	fmt.Fprintf(stdout, "revoked API key %s of tenant %q\n", k.PublicID(), k.TenantID)
	return nil
}

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
