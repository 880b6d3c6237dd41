package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// OpenPostgres returns a connection pool to the PostgreSQL database at url
// (postgres://user:pass@host:port/db) whose queries may use '?'
// placeholders: each is numbered ($1, $2, …) before it reaches the server.
// It does not connect; the first query (or Ping) does.
func OpenPostgres(url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password and all.
		return nil, errors.New("not a PostgreSQL URL (postgres://user:password@host:port/database)")
	}
	return sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)}), nil
}

// rebindConnector hands out pgx connections that rebind every query.
type rebindConnector struct{ driver.Connector }

func (c rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(pgxConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("pgx connection %T lacks the methods os1 needs", conn)
	}
	return rebindConn{pc}, nil
}

// pgxConn is what pgx's stdlib connection implements and rebindConn
// passes on, so that database/sql treats the wrapper as it would pgx.
type pgxConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.NamedValueChecker
	driver.SessionResetter
}

type rebindConn struct{ pgxConn }

func (c rebindConn) Prepare(q string) (driver.Stmt, error) { return c.pgxConn.Prepare(Rebind(q)) }

func (c rebindConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.pgxConn.PrepareContext(ctx, Rebind(q))
}

func (c rebindConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.pgxConn.ExecContext(ctx, Rebind(q), args)
}

func (c rebindConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.pgxConn.QueryContext(ctx, Rebind(q), args)
}
