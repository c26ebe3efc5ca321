// Package fleetdb keeps the fleet inventory: hosts (with the hash of their
// token), each host's current listeners, and the changes reported over time.
//
// One implementation serves two databases through database/sql: SQLite (the
// default, one file, the pure-Go modernc driver) and PostgreSQL (pgx; several
// `porthole serve` replicas can share it). The schemas are versioned
// migrations (migrations/sqlite, migrations/postgres) recorded in
// fleet_schema_migrations; every table is prefixed fleet_, so the inventory
// can live in the database that holds the site's feedback. The SQL differs
// only in placeholders ($n for PostgreSQL) and row locks; one conformance
// suite (fleetdb_test.go) runs against both.
//
// Apply stores a report in one transaction: a replay (a seq at or below the
// last applied one of the same agent run) changes nothing, a gap is applied
// and recorded, a report of a new agent run must be full, and a full report
// replaces the host's set, recording only what differs.
package fleetdb

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/store/record"
)

//go:embed migrations
var migrationFS embed.FS

// Errors of the store.
var (
	ErrUnknownHost = errors.New("unknown host")
	ErrClosed      = errors.New("fleet store closed")
)

// DB is the fleet inventory in SQLite or PostgreSQL. Its methods are safe
// for concurrent use.
type DB struct {
	w, r      *sql.DB // SQLite: one writer connection and a read-only pool; PostgreSQL: one pool, twice
	postgres  bool
	st        stmts
	commits   *committer // SQLite: reports commit in groups; nil for PostgreSQL
	closeOnce sync.Once
	closeErr  error
}

// stmts are the statements of the report path, prepared once: re-parsing
// them for every report cost more than running them.
type stmts struct {
	hostNext, hostLock, hostUpdate, hostRun, event, change, del, put, listeners *sql.Stmt
}

func (db *DB) prepare(ctx context.Context) error {
	for _, p := range []struct {
		s **sql.Stmt
		q string
	}{
		// An in-sequence report of the run being applied, with the host's current token: the one statement a
		// heartbeat needs.
		{&db.st.hostNext, `UPDATE fleet_hosts SET last_seen = ?, last_seq = ?, interval_s = ?, reports = reports + 1, host_group = ?
			WHERE name = ? AND agent = ? AND last_seq = ? AND (CAST(? AS integer) = 0 OR token_hash = ?) RETURNING id`},
		{&db.st.hostLock, `SELECT id, agent, last_seq, token_hash FROM fleet_hosts WHERE name = ?` + db.forUpdate()},
		{&db.st.hostUpdate, `UPDATE fleet_hosts SET last_seen = ?, last_seq = ?,
			interval_s = ?, reports = reports + 1, gaps = gaps + ?, host_group = ? WHERE id = ?`},
		{&db.st.hostRun, `UPDATE fleet_hosts SET agent = ?, boot = ? WHERE id = ?`},
		{&db.st.event, `INSERT INTO fleet_changes (host_id, seq, at, kind, detail) VALUES (?, ?, ?, ?, ?)`},
		{&db.st.change, `INSERT INTO fleet_changes
		(host_id, seq, at, kind, proto, addr, port, netns, pid, uid, user_name, process, exe, container)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&db.st.del, `DELETE FROM fleet_listeners WHERE host_id = ? AND proto = ? AND addr = ? AND port = ? AND netns = ?`},
		{&db.st.put, `INSERT INTO fleet_listeners
		(host_id, proto, addr, port, netns, pid, uid, user_name, process, exe, container, since)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (host_id, proto, addr, port, netns) DO UPDATE SET pid = excluded.pid, uid = excluded.uid,
			user_name = excluded.user_name, process = excluded.process, exe = excluded.exe,
			container = excluded.container, since = excluded.since`},
		{&db.st.listeners, `SELECT ` + listenerColumns + ` FROM fleet_listeners WHERE host_id = ?`},
	} {
		st, err := db.w.PrepareContext(ctx, db.q(p.q))
		if err != nil {
			return fmt.Errorf("fleet: preparing: %w", err)
		}
		*p.s = st
	}
	return nil
}

func (s *stmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.hostNext, s.hostLock, s.hostUpdate, s.hostRun, s.event, s.change, s.del, s.put, s.listeners} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// Host is one host of the inventory.
type Host struct {
	Name      string
	Created   time.Time
	LastSeen  time.Time // zero until the first report
	Agent     string    // the agent run being applied
	Boot      string
	Group     string // the group the host's agent named ("" is the whole fleet)
	LastSeq   uint64
	Interval  time.Duration
	Reports   int64 // reports applied
	Gaps      int64 // reports that skipped a seq
	Listeners int   // current listeners
	Revoked   bool  // the host has no valid token
}

// Stale reports whether h has missed fleet.StaleAfter intervals at now.
func (h Host) Stale(now time.Time) bool { return fleet.Stale(h.LastSeen, h.Interval, now) }

// HostListener is a listener with its host.
type HostListener struct {
	Host string
	fleet.Listener
	Since time.Time // when it was added or last changed owner
}

// ChangeKind is what a change records.
type ChangeKind string

// The kinds of change.
const (
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
	Changed ChangeKind = "changed"
	Gap     ChangeKind = "gap" // reports were lost: Detail says which seqs
	Run     ChangeKind = "run" // a new agent run started (the agent restarted)
)

// Change is one recorded event of a host.
type Change struct {
	ID       int64
	Host     string
	Seq      uint64
	Time     time.Time
	Kind     ChangeKind
	Listener fleet.Listener // for Added, Removed and Changed
	Detail   string
}

// Outcome is what Apply did with a report.
type Outcome uint8

// The outcomes of Apply.
const (
	Applied Outcome = iota + 1 // stored (possibly after a gap; see Result.Gap)
	Replay                     // already applied: nothing changed
	Resync                     // a delta or heartbeat of an agent run the server does not follow: send a full report
)

var outcomeNames = [...]string{"", "applied", "replay", "resync"}

func (o Outcome) String() string { return outcomeNames[o] }

// Result is Apply's answer.
type Result struct {
	Outcome Outcome
	Gap     bool // reports between the last applied and this one never arrived
	Changes int  // listener changes recorded
}

func (db *DB) q(s string) string {
	if !db.postgres {
		return s
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// forUpdate locks the selected rows where the database can (PostgreSQL);
// SQLite's write transactions are exclusive already.
func (db *DB) forUpdate() string {
	if db.postgres {
		return " FOR UPDATE"
	}
	return ""
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

func (db *DB) migrate(ctx context.Context, dir string, lock func(*sql.Tx) error) error {
	ms, err := record.ReadMigrations(migrationFS, "migrations/"+dir)
	if err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("fleet: migrating: %w", err)
	}
	defer tx.Rollback()
	if err := lock(tx); err != nil {
		return fmt.Errorf("fleet: migration lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS fleet_schema_migrations (
		version integer PRIMARY KEY,
		name    text    NOT NULL,
		applied bigint  NOT NULL
	)`); err != nil {
		return fmt.Errorf("fleet: creating fleet_schema_migrations: %w", err)
	}
	var newest int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM fleet_schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("fleet: reading schema version: %w", err)
	}
	if newest > len(ms) {
		return fmt.Errorf("fleet: database schema version %d is newer than this program knows (%d)", newest, len(ms))
	}
	// Both databases have transactional DDL: pending steps commit together or not at all.
	for _, m := range ms[newest:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("fleet: migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO fleet_schema_migrations (version, name, applied) VALUES (?, ?, ?)`),
			m.Version, m.Name, micros(time.Now())); err != nil {
			return fmt.Errorf("fleet: recording migration %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("fleet: migrating: %w", err)
	}
	return nil
}

// SchemaVersion returns the newest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM fleet_schema_migrations`).Scan(&v)
	return v, wrap("schema version", err)
}

// Token sets the token hash of host name, creating the host if it is new
// (created reports which). Any earlier token of the host stops working.
func (db *DB) Token(ctx context.Context, name string, hash fleet.TokenHash, now time.Time) (created bool, err error) {
	if err := fleet.ValidName(name); err != nil {
		return false, err
	}
	err = db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE fleet_hosts SET token_hash = ? WHERE name = ?`), hash[:], name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		created = true
		_, err = tx.ExecContext(ctx, db.q(`INSERT INTO fleet_hosts (name, token_hash, created) VALUES (?, ?, ?)`), name, hash[:], micros(now))
		return err
	})
	return created, wrap("token", err)
}

// Revoke removes the token of host name; its inventory stays. It returns an
// error wrapping ErrUnknownHost for a host that does not exist.
func (db *DB) Revoke(ctx context.Context, name string) error {
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE fleet_hosts SET token_hash = NULL WHERE name = ?`), name)
	if err != nil {
		return wrap("revoke", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("revoke", err)
	} else if n == 0 {
		return fmt.Errorf("%w: %q", ErrUnknownHost, name)
	}
	return nil
}

// HostByToken returns the name of the host whose token hashes to hash, or
// an error wrapping ErrUnknownHost.
func (db *DB) HostByToken(ctx context.Context, hash fleet.TokenHash) (string, error) {
	var name string
	err := db.r.QueryRowContext(ctx, db.q(`SELECT name FROM fleet_hosts WHERE token_hash = ?`), hash[:]).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrUnknownHost
	}
	return name, wrap("token lookup", err)
}

// Apply stores report r, received at now, in one transaction. The host must
// exist (ErrUnknownHost otherwise); r must be valid (fleet.Report.Validate).
func (db *DB) Apply(ctx context.Context, r fleet.Report, now time.Time) (Result, error) {
	return db.apply(ctx, r, nil, now)
}

// ApplyAs is Apply for a report that came with a token hashing to hash: in
// the same transaction it checks that hash is still the host's token, and
// answers ErrUnknownHost when it is not (revoked or replaced), so that a
// token cached in front of the database is refused as soon as the
// revocation commits.
func (db *DB) ApplyAs(ctx context.Context, hash fleet.TokenHash, r fleet.Report, now time.Time) (Result, error) {
	return db.apply(ctx, r, &hash, now)
}

func (db *DB) apply(ctx context.Context, r fleet.Report, hash *fleet.TokenHash, now time.Time) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	if db.commits == nil && r.Kind == fleet.KindHeartbeat && r.Seq > 1 {
		// PostgreSQL: the next heartbeat of the run being applied is one statement, so it needs no transaction
		// of its own (three round trips become one). Anything else falls through to the transaction.
		var id int64
		err := db.st.hostNext.QueryRowContext(ctx, heartbeatArgs(r, hash, now)...).Scan(&id)
		switch {
		case err == nil:
			return Result{Outcome: Applied}, nil
		case !errors.Is(err, sql.ErrNoRows):
			return Result{}, wrap("apply", err)
		}
	}
	var res Result
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		res, err = db.applyTx(ctx, tx, r, hash, now)
		return err
	})
	if err != nil {
		return Result{}, wrap("apply", err)
	}
	return res, nil
}

func (db *DB) applyTx(ctx context.Context, tx *sql.Tx, r fleet.Report, hash *fleet.TokenHash, now time.Time) (Result, error) {
	var res Result
	at := micros(now)
	// The common case first: the next report of the run being applied touches the host's row once.
	var id int64
	if r.Seq > 1 {
		err := tx.StmtContext(ctx, db.st.hostNext).QueryRowContext(ctx, heartbeatArgs(r, hash, now)...).Scan(&id)
		switch {
		case err == nil:
			res.Outcome = Applied
			if r.Kind == fleet.KindHeartbeat {
				return res, nil
			}
			return res, db.applyBody(ctx, tx, id, r, at, &res)
		case !errors.Is(err, sql.ErrNoRows):
			return res, err
		}
	}
	var agent string
	var lastSeq int64
	var token []byte
	err := tx.StmtContext(ctx, db.st.hostLock).QueryRowContext(ctx, r.Host).Scan(&id, &agent, &lastSeq, &token)
	if errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("%w: %q", ErrUnknownHost, r.Host)
	}
	if err != nil {
		return res, err
	}
	if hash != nil && string(token) != string(hash[:]) {
		return res, fmt.Errorf("%w: the token of %q was revoked or replaced", ErrUnknownHost, r.Host)
	}
	sameRun := agent == r.Agent
	switch {
	case sameRun && r.Seq <= uint64(lastSeq):
		res.Outcome = Replay
		return res, nil
	case !sameRun && r.Kind != fleet.KindFull:
		res.Outcome = Resync
		return res, nil
	}
	res.Outcome = Applied
	if !sameRun {
		detail := "agent run " + r.Agent
		if r.Boot != "" {
			detail += ", boot " + r.Boot
		}
		if err := db.event(ctx, tx, id, r.Seq, at, Run, detail); err != nil {
			return res, err
		}
		lastSeq = 0
	}
	if r.Seq > uint64(lastSeq)+1 {
		res.Gap = true
		detail := fmt.Sprintf("seq %d–%d never arrived", lastSeq+1, r.Seq-1)
		if err := db.event(ctx, tx, id, r.Seq, at, Gap, detail); err != nil {
			return res, err
		}
	}
	if err := db.applyBody(ctx, tx, id, r, at, &res); err != nil {
		return res, err
	}
	gap := 0
	if res.Gap {
		gap = 1
	}
	if !sameRun {
		// The boot id belongs to the run: it is taken from the run's first report.
		if _, err := tx.StmtContext(ctx, db.st.hostRun).ExecContext(ctx, r.Agent, r.Boot, id); err != nil {
			return res, err
		}
	}
	_, err = tx.StmtContext(ctx, db.st.hostUpdate).ExecContext(ctx, at, int64(r.Seq), int64(r.Interval/time.Second), gap, r.Group, id)
	return res, err
}

// heartbeatArgs are the arguments of the hostNext statement for r.
func heartbeatArgs(r fleet.Report, hash *fleet.TokenHash, now time.Time) []any {
	check, h := 0, []byte(nil)
	if hash != nil {
		check, h = 1, hash[:]
	}
	return []any{micros(now), int64(r.Seq), int64(r.Interval / time.Second), r.Group, r.Host, r.Agent, int64(r.Seq - 1), check, h}
}

// applyBody stores what a full or delta report says about host id's
// listeners and findings.
func (db *DB) applyBody(ctx context.Context, tx *sql.Tx, id int64, r fleet.Report, at int64, res *Result) error {
	var d fleet.Delta
	switch r.Kind {
	case fleet.KindFull:
		cur, err := db.listeners(ctx, tx.StmtContext(ctx, db.st.listeners), id)
		if err != nil {
			return err
		}
		d = fleet.Diff(cur, r.Listeners)
	case fleet.KindDelta:
		d = fleet.Delta{Added: r.Added, Removed: r.Removed, Changed: r.Changed}
	}
	if err := db.applyDelta(ctx, tx, id, r.Seq, at, d); err != nil {
		return err
	}
	res.Changes = len(d.Added) + len(d.Removed) + len(d.Changed)
	if r.FindingsSet {
		return db.setFindings(ctx, tx, id, at, r.Findings)
	}
	return nil
}

// setFindings replaces the host's findings, keeping the since of those
// that were there already.
func (db *DB) setFindings(ctx context.Context, tx *sql.Tx, host, at int64, fs []fleet.Finding) error {
	type key struct {
		rule, proto, addr, netns string
		port                     int
	}
	since := map[key]int64{}
	rows, err := tx.QueryContext(ctx, db.q(`SELECT rule, proto, addr, port, netns, since FROM fleet_findings WHERE host_id = ?`), host)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k key
		var s int64
		if err := rows.Scan(&k.rule, &k.proto, &k.addr, &k.port, &k.netns, &s); err != nil {
			rows.Close()
			return err
		}
		since[k] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM fleet_findings WHERE host_id = ?`), host); err != nil {
		return err
	}
	for _, f := range fs {
		k := key{rule: f.Rule, netns: f.NetNS}
		if f.Proto != ports.ProtoNone {
			k.proto, k.addr, k.port = f.Proto.String(), f.Addr.String(), int(f.Port)
		}
		s, ok := since[k]
		if !ok {
			s = at
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO fleet_findings (host_id, rule, severity, proto, addr, port, netns, reason, since)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), host, f.Rule, f.Severity, k.proto, k.addr, k.port, k.netns, f.Reason, s); err != nil {
			return err
		}
	}
	return nil
}

// HostFinding is a finding with its host.
type HostFinding struct {
	Host string
	fleet.Finding
	Since time.Time // first reported
}

var severityRank = map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}

// Findings returns the current findings of host name ("" for every host),
// most severe first, then by host and listener.
func (db *DB) Findings(ctx context.Context, name string) ([]HostFinding, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT h.name, f.rule, f.severity, f.proto, f.addr, f.port, f.netns, f.reason, f.since
		FROM fleet_findings f JOIN fleet_hosts h ON h.id = f.host_id WHERE (CAST(? AS text) = '' OR h.name = ?)`), name, name)
	if err != nil {
		return nil, wrap("findings", err)
	}
	defer rows.Close()
	out := []HostFinding{}
	for rows.Next() {
		var hf HostFinding
		var proto, addr string
		var port int
		var since int64
		if err := rows.Scan(&hf.Host, &hf.Rule, &hf.Severity, &proto, &addr, &port, &hf.NetNS, &hf.Reason, &since); err != nil {
			return nil, wrap("findings", err)
		}
		if proto != "" {
			p, ok := ports.ParseProto(proto)
			a, err := netip.ParseAddr(addr)
			if !ok || err != nil {
				return nil, wrap("findings", fmt.Errorf("stored finding %q %q", proto, addr))
			}
			hf.Proto, hf.Addr, hf.Port = p, a, uint16(port)
		}
		hf.Since = time.UnixMicro(since).UTC()
		out = append(out, hf)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("findings", err)
	}
	slices.SortFunc(out, func(a, b HostFinding) int {
		return cmp.Or(cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]), cmp.Compare(a.Host, b.Host), fleet.CompareFindings(a.Finding, b.Finding))
	})
	return out, nil
}

func (db *DB) event(ctx context.Context, tx *sql.Tx, host int64, seq uint64, at int64, kind ChangeKind, detail string) error {
	_, err := tx.StmtContext(ctx, db.st.event).ExecContext(ctx, host, int64(seq), at, string(kind), detail)
	return err
}

func (db *DB) applyDelta(ctx context.Context, tx *sql.Tx, host int64, seq uint64, at int64, d fleet.Delta) error {
	if d.Empty() {
		return nil
	}
	change, del, put := tx.StmtContext(ctx, db.st.change), tx.StmtContext(ctx, db.st.del), tx.StmtContext(ctx, db.st.put)
	var err error
	for _, set := range []struct {
		kind ChangeKind
		ls   []fleet.Listener
	}{{Removed, d.Removed}, {Added, d.Added}, {Changed, d.Changed}} {
		for _, l := range set.ls {
			proto, addr := l.Proto.String(), l.Addr.String()
			if set.kind == Removed {
				_, err = del.ExecContext(ctx, host, proto, addr, int(l.Port), l.NetNS)
			} else {
				_, err = put.ExecContext(ctx, host, proto, addr, int(l.Port), l.NetNS, l.PID, l.UID, l.User, l.Process, l.Exe, l.Container, at)
			}
			if err != nil {
				return err
			}
			if _, err := change.ExecContext(ctx, host, int64(seq), at, string(set.kind), proto, addr, int(l.Port), l.NetNS,
				l.PID, l.UID, l.User, l.Process, l.Exe, l.Container); err != nil {
				return err
			}
		}
	}
	return nil
}

const listenerColumns = `proto, addr, port, netns, pid, uid, user_name, process, exe, container`

type scanner interface{ Scan(...any) error }

func scanListener(row scanner, extra ...any) (fleet.Listener, error) {
	var proto, addr string
	var port int
	var l fleet.Listener
	err := row.Scan(append([]any{&proto, &addr, &port, &l.NetNS, &l.PID, &l.UID, &l.User, &l.Process, &l.Exe, &l.Container}, extra...)...)
	if err != nil {
		return l, err
	}
	var ok bool
	if l.Proto, ok = ports.ParseProto(proto); !ok {
		return l, fmt.Errorf("stored protocol %q", proto)
	}
	if proto == "" {
		return l, nil // an event row
	}
	if l.Addr, err = netip.ParseAddr(addr); err != nil {
		return l, fmt.Errorf("stored address %q", addr)
	}
	l.Port = uint16(port)
	return l, nil
}

func (db *DB) listeners(ctx context.Context, st *sql.Stmt, host int64) ([]fleet.Listener, error) {
	return scanListeners(st.QueryContext(ctx, host))
}

func scanListeners(rows *sql.Rows, err error) ([]fleet.Listener, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []fleet.Listener
	for rows.Next() {
		l, err := scanListener(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Listeners returns the current listeners of host name, sorted.
func (db *DB) Listeners(ctx context.Context, name string) ([]fleet.Listener, error) {
	var id int64
	err := db.r.QueryRowContext(ctx, db.q(`SELECT id FROM fleet_hosts WHERE name = ?`), name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownHost, name)
	}
	if err != nil {
		return nil, wrap("listeners", err)
	}
	ls, err := scanListeners(db.r.QueryContext(ctx, db.q(`SELECT `+listenerColumns+` FROM fleet_listeners WHERE host_id = ?`), id))
	fleet.Sort(ls)
	return ls, wrap("listeners", err)
}

// HostListeners returns the current listeners of host name with their
// host and since when, sorted.
func (db *DB) HostListeners(ctx context.Context, name string) ([]HostListener, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT h.name, `+prefixed("l.", listenerColumns)+`, l.since
		FROM fleet_hosts h LEFT JOIN fleet_listeners l ON l.host_id = h.id WHERE h.name = ?`), name)
	if err != nil {
		return nil, wrap("host listeners", err)
	}
	defer rows.Close()
	out := []HostListener{}
	found := false
	for rows.Next() {
		found = true
		var proto, addr, netns, user, process, exe, container sql.NullString
		var port, pid, uid, since sql.NullInt64
		var host string
		if err := rows.Scan(&host, &proto, &addr, &port, &netns, &pid, &uid, &user, &process, &exe, &container, &since); err != nil {
			return nil, wrap("host listeners", err)
		}
		if !proto.Valid {
			continue // a host without listeners
		}
		p, ok := ports.ParseProto(proto.String)
		a, err := netip.ParseAddr(addr.String)
		if !ok || err != nil {
			return nil, wrap("host listeners", fmt.Errorf("stored listener %q %q", proto.String, addr.String))
		}
		out = append(out, HostListener{Host: host, Since: time.UnixMicro(since.Int64).UTC(), Listener: fleet.Listener{
			Key:   fleet.Key{Proto: p, Addr: a, Port: uint16(port.Int64), NetNS: netns.String},
			Owner: fleet.Owner{PID: int(pid.Int64), UID: int(uid.Int64), User: user.String, Process: process.String, Exe: exe.String, Container: container.String}}})
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("host listeners", err)
	}
	if !found {
		return nil, fmt.Errorf("%w: %q", ErrUnknownHost, name)
	}
	sortHostListeners(out)
	return out, nil
}

// Hosts returns every host, by name.
func (db *DB) Hosts(ctx context.Context) ([]Host, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT h.name, h.created, h.last_seen, h.agent, h.boot, h.host_group, h.last_seq, h.interval_s,
			h.reports, h.gaps, h.token_hash IS NULL,
			(SELECT count(*) FROM fleet_listeners l WHERE l.host_id = h.id)
		FROM fleet_hosts h ORDER BY h.name`)
	if err != nil {
		return nil, wrap("hosts", err)
	}
	defer rows.Close()
	out := []Host{}
	for rows.Next() {
		var h Host
		var created int64
		var seen sql.NullInt64
		var seq, interval int64
		if err := rows.Scan(&h.Name, &created, &seen, &h.Agent, &h.Boot, &h.Group, &seq, &interval, &h.Reports, &h.Gaps, &h.Revoked, &h.Listeners); err != nil {
			return nil, wrap("hosts", err)
		}
		h.Created, h.LastSeen = time.UnixMicro(created).UTC(), fromMicros(seen)
		h.LastSeq, h.Interval = uint64(seq), time.Duration(interval)*time.Second
		out = append(out, h)
	}
	return out, wrap("hosts", rows.Err())
}

// Port returns the listeners on port across every host, by host then key.
func (db *DB) Port(ctx context.Context, port int) ([]HostListener, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT h.name, `+prefixed("l.", listenerColumns)+`, l.since
		FROM fleet_listeners l JOIN fleet_hosts h ON h.id = l.host_id WHERE l.port = ?`), port)
	if err != nil {
		return nil, wrap("port", err)
	}
	defer rows.Close()
	out := []HostListener{}
	for rows.Next() {
		var hl HostListener
		var since int64
		var name string
		l, err := scanListener(rowPrefix{rows, []any{&name}}, &since)
		if err != nil {
			return nil, wrap("port", err)
		}
		hl.Host, hl.Listener, hl.Since = name, l, time.UnixMicro(since).UTC()
		out = append(out, hl)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("port", err)
	}
	sortHostListeners(out)
	return out, nil
}

// Outlier is a (protocol, port, executable) that few hosts of a group have.
type Outlier struct {
	Group string // "" is the hosts that named no group
	Proto ports.Proto
	Port  uint16
	Exe   string   // "" when the owner could not be seen
	Hosts []string // the hosts that have it, by name
	Of    int      // hosts in the group
}

// OutlierShare is the largest share of a group's hosts a (protocol, port,
// executable) may be seen on and still be an outlier; at least one host
// always may.
const OutlierShare = 0.05

// MinOutlierHosts is the fewest reporting hosts a group needs for outliers
// to mean anything: in a smaller group nothing is usual yet.
const MinOutlierHosts = 3

// live selects the hosts that count: reported at least once, not revoked.
const live = `h.last_seen IS NOT NULL AND h.token_hash IS NOT NULL`

// Outliers returns, for each group (the agents' --group; "" for hosts that
// named none) of at least MinOutlierHosts reporting hosts, the (protocol,
// port, executable) triples seen on at most max(1, OutlierShare × N) of its
// N hosts, by group, protocol, port and executable.
func (db *DB) Outliers(ctx context.Context) ([]Outlier, error) {
	sizes := map[string]int{}
	rows, err := db.r.QueryContext(ctx, `SELECT h.host_group, count(*) FROM fleet_hosts h WHERE `+live+` GROUP BY h.host_group`)
	if err != nil {
		return nil, wrap("outliers", err)
	}
	for rows.Next() {
		var g string
		var n int
		if err := rows.Scan(&g, &n); err != nil {
			rows.Close()
			return nil, wrap("outliers", err)
		}
		sizes[g] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("outliers", err)
	}
	rows, err = db.r.QueryContext(ctx, `SELECT h.host_group, l.proto, l.port, l.exe, count(DISTINCT l.host_id)
		FROM fleet_listeners l JOIN fleet_hosts h ON h.id = l.host_id WHERE `+live+`
		GROUP BY h.host_group, l.proto, l.port, l.exe`)
	if err != nil {
		return nil, wrap("outliers", err)
	}
	out := []Outlier{}
	for rows.Next() {
		var o Outlier
		var proto string
		var port, n int
		if err := rows.Scan(&o.Group, &proto, &port, &o.Exe, &n); err != nil {
			rows.Close()
			return nil, wrap("outliers", err)
		}
		o.Of = sizes[o.Group]
		if o.Of < MinOutlierHosts || n > max(1, int(OutlierShare*float64(o.Of))) {
			continue
		}
		o.Proto, _ = ports.ParseProto(proto)
		o.Port = uint16(port)
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("outliers", err)
	}
	for i := range out {
		o := &out[i]
		hs, err := db.r.QueryContext(ctx, db.q(`SELECT DISTINCT h.name FROM fleet_listeners l JOIN fleet_hosts h ON h.id = l.host_id
			WHERE `+live+` AND h.host_group = ? AND l.proto = ? AND l.port = ? AND l.exe = ? ORDER BY h.name`),
			o.Group, o.Proto.String(), int(o.Port), o.Exe)
		if err != nil {
			return nil, wrap("outliers", err)
		}
		for hs.Next() {
			var name string
			if err := hs.Scan(&name); err != nil {
				hs.Close()
				return nil, wrap("outliers", err)
			}
			o.Hosts = append(o.Hosts, name)
		}
		hs.Close()
		if err := hs.Err(); err != nil {
			return nil, wrap("outliers", err)
		}
	}
	slices.SortFunc(out, func(a, b Outlier) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Exe, b.Exe))
	})
	return out, nil
}

// Changes returns up to limit changes, newest first, of host name ("" for
// every host) with an ID below before (0 for no bound).
func (db *DB) Changes(ctx context.Context, name string, before int64, limit int) ([]Change, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT c.id, h.name, c.seq, c.at, c.kind, c.detail, `+prefixed("c.", listenerColumns)+`
		FROM fleet_changes c JOIN fleet_hosts h ON h.id = c.host_id
		WHERE (CAST(? AS text) = '' OR h.name = ?) AND (CAST(? AS bigint) = 0 OR c.id < ?) ORDER BY c.id DESC LIMIT ?`), name, name, before, before, limit)
	if err != nil {
		return nil, wrap("changes", err)
	}
	defer rows.Close()
	out := []Change{}
	for rows.Next() {
		var c Change
		var seq, at int64
		var kind string
		l, err := scanListener(rowPrefix{rows, []any{&c.ID, &c.Host, &seq, &at, &kind, &c.Detail}})
		if err != nil {
			return nil, wrap("changes", err)
		}
		c.Seq, c.Time, c.Kind, c.Listener = uint64(seq), time.UnixMicro(at).UTC(), ChangeKind(kind), l
		out = append(out, c)
	}
	return out, wrap("changes", rows.Err())
}

// rowPrefix scans leading columns into its own targets before the ones
// scanListener passes.
type rowPrefix struct {
	rows   *sql.Rows
	prefix []any
}

func (p rowPrefix) Scan(dest ...any) error { return p.rows.Scan(append(p.prefix, dest...)...) }

func sortHostListeners(hs []HostListener) {
	slices.SortFunc(hs, func(a, b HostListener) int {
		return cmp.Or(cmp.Compare(a.Host, b.Host), a.Key.Compare(b.Key))
	})
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Size returns the bytes the inventory's data occupies: for SQLite the
// pages in use (page count less free pages, whether in the file or still in
// the write-ahead log), for PostgreSQL the fleet_ tables of the current
// schema with their indexes and TOAST. Benchmarks read it to measure growth.
func (db *DB) Size(ctx context.Context) (int64, error) {
	var n int64
	var err error
	if db.postgres {
		err = db.r.QueryRowContext(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
			FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
			WHERE s.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE 'fleet\_%'`).Scan(&n)
	} else {
		err = db.r.QueryRowContext(ctx, `SELECT (p.page_count - f.freelist_count) * s.page_size
			FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s`).Scan(&n)
	}
	return n, wrap("size", err)
}

// Close releases the database. Calling it again does nothing.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		if db.commits != nil {
			db.commits.stop()
		}
		db.closeErr = db.st.close()
		if db.r != db.w {
			db.closeErr = errors.Join(db.closeErr, db.r.Close())
		}
		db.closeErr = errors.Join(db.closeErr, db.w.Close())
	})
	return db.closeErr
}

func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fleet.ErrInvalid), errors.Is(err, ErrUnknownHost), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, sql.ErrConnDone), err.Error() == "sql: database is closed":
		return fmt.Errorf("fleet: %s: %w", op, ErrClosed)
	}
	return fmt.Errorf("fleet: %s: %w", op, err)
}
