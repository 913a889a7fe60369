package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// connector makes the pool's connections: pgx's, each wrapped in a conn
// that sends the tenant setting.
type connector struct {
	driver.Connector
	statementTimeout time.Duration
	lockTimeout      time.Duration
	settings         *atomic.Int64
	// local: send the setting as SET LOCAL in each scope's transaction
	// (Citus passes SET LOCAL on to its workers, not session settings).
	local *atomic.Bool
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: dc.(*stdlib.Conn), timeout: fmt.Sprint(c.statementTimeout.Milliseconds()),
		lockTimeout: fmt.Sprint(c.lockTimeout.Milliseconds()), settings: c.settings,
		local: c.local}, nil
}

// conn is one pooled connection. It is the one place where the tenant
// setting (app.tenant_id, which row-level security reads, and the
// statement timeout of tenant work) is sent to PostgreSQL.
//
// A Scope checks a connection out of the pool and names its tenant
// (scope); database/sql forgets it when the connection goes back
// (ResetSession). Before each statement, the connection makes the
// session's setting what its holder needs: the tenant's while a Scope
// holds it, none otherwise, so a statement outside a Scope never runs
// with a tenant's setting left over. The setting is sent only when it
// changes (one round trip when a connection passes from one tenant to
// another, none while it serves the same one) and is session-level, so
// a connection's statements need no transaction of their own.
type conn struct {
	*stdlib.Conn
	timeout     string
	lockTimeout string
	settings    *atomic.Int64
	local       *atomic.Bool
	want        string // the tenant of the Scope holding the connection, or ""
	have        string // the tenant set on the session; "?" when unknown
	// plans are pgx's decoding plans of the results Scope.Scan read on
	// this connection, by result shape (scanRows); only the connection's
	// holder uses them.
	plans map[planKey][]pgtype.ScanPlan
}

// scope names the tenant whose work the connection's holder does.
func (c *conn) scope(tenant string) { c.want = tenant }

// sync sends the tenant setting when the session's differs from what the
// connection's holder needs.
func (c *conn) sync(ctx context.Context) error {
	if c.want == c.have || (c.local.Load() && c.have == "") {
		return nil
	}
	c.settings.Add(1)
	var err error
	if c.want == "" {
		_, err = c.Conn.Conn().Exec(ctx, "RESET app.tenant_id; RESET statement_timeout; RESET lock_timeout")
	} else {
		_, err = c.Conn.Conn().Exec(ctx, "SELECT set_config('app.tenant_id', $1, false), set_config('statement_timeout', $2, false), "+
			"set_config('lock_timeout', $3, false)", c.want, c.timeout, c.lockTimeout)
	}
	if err != nil {
		c.have = "?"
		return fmt.Errorf("store: set tenant: %w", err)
	}
	c.have = c.want
	return nil
}

func (c *conn) ResetSession(ctx context.Context) error {
	c.want = ""
	return c.Conn.ResetSession(ctx)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.sync(ctx); err != nil {
		return nil, err
	}
	query, args, err := parameterize(query, args)
	if err != nil {
		return nil, err
	}
	return c.Conn.QueryContext(ctx, query, args)
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.sync(ctx); err != nil {
		return nil, err
	}
	query, args, err := parameterize(query, args)
	if err != nil {
		return nil, err
	}
	return c.Conn.ExecContext(ctx, query, args)
}

// PrepareContext refuses: a statement prepared by hand would run later
// through pgx's own statement object, without the tenant setting being
// brought in line first, so it could run with a setting another holder
// left. Statements go through ExecContext and QueryContext (bun and pgx's
// statement cache prepare them there, safely).
func (c *conn) PrepareContext(context.Context, string) (driver.Stmt, error) {
	return nil, errors.New("store: statements prepared by hand are not supported; run statements through a Scope")
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.local.Load() && c.want != "" {
		return c.beginLocal(ctx, opts)
	}
	// The setting is made before BEGIN, so a rolled-back transaction does
	// not take it back.
	if err := c.sync(ctx); err != nil {
		return nil, err
	}
	return c.Conn.BeginTx(ctx, opts)
}

// beginLocal begins a transaction with the tenant setting as SET LOCAL,
// in the same round trip as BEGIN: one pipeline of separate statements
// (the tenant is quoted as a literal, since SET takes no parameters).
// Not one query of several statements: Citus passes each SET LOCAL on to
// the workers as the text of the query that held it, so every worker
// connection of the transaction would be sent the BEGIN too (a warning
// there each time) and every setting once per SET.
func (c *conn) beginLocal(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	begin := "BEGIN"
	if opts.ReadOnly {
		begin = "BEGIN READ ONLY"
	}
	if strings.IndexByte(c.want, 0) >= 0 {
		return nil, fmt.Errorf("store: a tenant name holds a NUL byte")
	}
	b := &pgconn.Batch{}
	for _, q := range []string{begin, "SET LOCAL app.tenant_id = '" + strings.ReplaceAll(c.want, "'", "''") + "'",
		"SET LOCAL statement_timeout = " + c.timeout, "SET LOCAL lock_timeout = " + c.lockTimeout} {
		b.ExecParams(q, nil, nil, nil, nil)
	}
	pg := c.Conn.Conn().PgConn()
	if _, err := pg.ExecBatch(ctx, b).ReadAll(); err != nil {
		if pg.TxStatus() != 'I' {
			_, _ = c.Conn.Conn().Exec(context.Background(), "ROLLBACK")
		}
		return nil, fmt.Errorf("store: set tenant: %w", err)
	}
	return localTx{c}, nil
}

// localTx is a transaction begun by beginLocal.
type localTx struct{ c *conn }

// Commit commits, and fails when PostgreSQL answered COMMIT with
// ROLLBACK (the transaction had failed), as pgx's own transactions do.
func (t localTx) Commit() error {
	tag, err := t.c.Conn.Conn().Exec(context.Background(), "COMMIT")
	if err == nil && tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return err
}

func (t localTx) Rollback() error {
	_, err := t.c.Conn.Conn().Exec(context.Background(), "ROLLBACK")
	return err
}

// PgxConn is the pgx connection under a database/sql driver connection of
// a store pool (as sql.Conn.Raw passes it), for what database/sql cannot
// do, such as LISTEN.
func PgxConn(driverConn any) *pgx.Conn {
	if c, ok := driverConn.(*conn); ok {
		return c.Conn.Conn()
	}
	return driverConn.(*stdlib.Conn).Conn()
}
