package apikey

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	"seatgraph/internal/auth"
)

// DefaultTTL is the lifetime of a key minted without --ttl.
const DefaultTTL = 90 * 24 * time.Hour

// CLI is the "apikey" command with its create, list and revoke
// subcommands. open connects to the store when a subcommand runs (never
// for --help) and returns a function that closes it. The minted key is
// the only thing written to stdout, so that scripts can capture it;
// everything else goes to stderr (create) or stdout (list, revoke).
func CLI(open func(context.Context) (*Store, func(), error), stdout, stderr io.Writer) *cli.Command {
	with := func(run func(context.Context, *Store, *cli.Command) error) cli.ActionFunc {
		return func(ctx context.Context, cmd *cli.Command) error {
			s, closeStore, err := open(ctx)
			if err != nil {
				return err
			}
			defer closeStore()
			return run(ctx, s, cmd)
		}
	}
	return &cli.Command{
		Name:  "apikey",
		Usage: "mint (shown once), list and revoke API keys (connects with DATABASE_ADMIN_URL)",
		// Runs only when no subcommand matched.
		Action: func(_ context.Context, cmd *cli.Command) error {
			if cmd.Args().Present() {
				return fmt.Errorf("apikey: unknown subcommand %q (want create, list or revoke)", cmd.Args().First())
			}
			return errors.New("apikey: want create, list or revoke")
		},
		Commands: []*cli.Command{{
			Name:      "create",
			Usage:     "mint an API key and print it on stdout, once",
			UsageText: "seatgraph apikey create --tenant T [--app A] [--scopes \"…\"] [--ttl D] [--name N]",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "tenant", Usage: "tenant the key is bound to", Required: true},
				&cli.StringFlag{Name: "app", Usage: "application the key is bound to (its reads see only that app's records)"},
				&cli.StringFlag{Name: "scopes", Value: auth.ScopeLicensesRead + " " + auth.ScopeDirectoryRead,
					Usage: "space-separated scopes, of: " + strings.Join(auth.AllScopes, " ")},
				&cli.DurationFlag{Name: "ttl", Value: DefaultTTL, Usage: "lifetime, e.g. 720h; 0 for a key that never expires"},
				&cli.StringFlag{Name: "name", Usage: "a label to recognise the key by"},
			},
			Action: with(func(ctx context.Context, s *Store, cmd *cli.Command) error {
				if cmd.Args().Present() {
					return fmt.Errorf("apikey create: unexpected argument %q", cmd.Args().First())
				}
				return create(ctx, s, CreateRequest{Tenant: cmd.String("tenant"), App: cmd.String("app"),
					Name: cmd.String("name"), Scopes: strings.Fields(cmd.String("scopes")), TTL: cmd.Duration("ttl"),
					CreatedBy: "cli:" + osUser()}, stdout, stderr)
			}),
		}, {
			Name:  "list",
			Usage: "list keys (never the keys themselves): id, tenant, app, name, scopes, dates, status",
			Flags: []cli.Flag{&cli.StringFlag{Name: "tenant", Usage: "only this tenant's keys"}},
			Action: with(func(ctx context.Context, s *Store, cmd *cli.Command) error {
				return list(ctx, s, cmd.String("tenant"), stdout)
			}),
		}, {
			Name:      "revoke",
			Usage:     "revoke a key by its id; it is refused from the next request on",
			ArgsUsage: "<id>",
			Action: with(func(ctx context.Context, s *Store, cmd *cli.Command) error {
				if cmd.Args().Len() != 1 {
					return errors.New("apikey revoke: want exactly one key id (key_…)")
				}
				return revoke(ctx, s, cmd.Args().First(), stdout)
			}),
		}},
	}
}

// Command runs "seatgraph apikey <args>" on s, as the binary would.
func Command(ctx context.Context, s *Store, args []string, stdout, stderr io.Writer) error {
	c := CLI(func(context.Context) (*Store, func(), error) { return s, func() {}, nil }, stdout, stderr)
	c.Writer, c.ErrWriter = stdout, stderr
	c.ExitErrHandler = func(context.Context, *cli.Command, error) {} // return errors, never exit
	return c.Run(ctx, append([]string{"apikey"}, args...))
}

func create(ctx context.Context, s *Store, r CreateRequest, stdout, stderr io.Writer) error {
	key, k, err := s.Create(ctx, r)
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

func list(ctx context.Context, s *Store, tenant string, stdout io.Writer) error {
	keys, err := s.List(ctx, tenant)
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

func revoke(ctx context.Context, s *Store, id string, stdout io.Writer) error {
	k, err := s.Revoke(ctx, id)
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
