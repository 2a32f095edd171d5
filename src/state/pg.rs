//! The `pg` state backend: one row per workspace in `<schema>.states` (created if missing), a
//! session-level `pg_advisory_lock` held on one connection for the whole run, and every write in
//! a transaction that re-checks the stored lineage and serial.

use super::codec::{parse_state, prepare};
use super::{State, StateError};
use std::time::{Duration, Instant};
use tokio_postgres::{Client, NoTls};

/// Key of the advisory lock that serializes creating the schema and table.
const SETUP_KEY: i64 = 0x736e_6170_666f_726d; // "snapform"

/// Settings of `backend "pg"`.
#[derive(Clone)]
pub struct PgSettings {
    /// `postgres://user:password@host:port/db` or `host=... user=...`; may hold a password.
    pub conn_str: String,
    pub schema_name: String,
    pub workspace: String,
}

impl std::fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSettings")
            .field("conn_str", &"(redacted)")
            .field("schema_name", &self.schema_name)
            .field("workspace", &self.workspace)
            .finish()
    }
}

/// The advisory lock key of a workspace: FNV-1a (64 bit) of `snapform:<schema>:<workspace>`.
pub fn lock_key(schema_name: &str, workspace: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("snapform:{schema_name}:{workspace}").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// An open pg state: a connection holding the workspace's advisory lock.
pub struct PgBackend {
    client: Client,
    table: String,
    workspace: String,
    key: i64,
    target: String,
    /// The `state_log` table: records of changes since the row's checkpoint.
    log_table: String,
    /// `<schema>.state_history`: every checkpointed serial, whole.
    history_table: String,
    last: Option<State>,
    /// (lineage, serial) of what is stored — the row and the log records after it — once
    /// read or written.
    stored: Option<(String, i64)>,
    /// This connection holds the advisory lock (not with `-lock=false`).
    locked: bool,
    /// Log records since the checkpoint, their bytes, and the size of the checkpoint.
    log_records: u64,
    log_bytes: u64,
    checkpoint_bytes: u64,
}

struct Conn {
    client: Client,
    log_table: String,
    history_table: String,
    target: String,
    table: String,
}

fn fail(target: &str, op: &'static str, message: impl Into<String>) -> StateError {
    StateError::Backend {
        backend: "pg",
        target: target.to_string(),
        op,
        message: message.into(),
    }
}

/// The error with its database detail, without the connection string.
fn pg_message(e: &tokio_postgres::Error, secret: Option<&str>) -> String {
    let mut m = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut m = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                m.push_str(&format!(": {s}"));
                src = s.source();
            }
            m
        }
    };
    if let Some(p) = secret.filter(|p| !p.is_empty()) {
        m = m.replace(p, "***");
    }
    m
}

/// The libpq environment variables the `pg` backend honours, and what each sets.
pub const PG_ENV: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGDATABASE", "dbname"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGAPPNAME", "application_name"),
];

/// Fills what the connection string left out from the libpq variables (as libpq does).
fn with_libpq_env(cfg: &mut tokio_postgres::Config) {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if cfg.get_hosts().is_empty()
        && let Some(h) = env("PGHOST")
    {
        for h in h.split(',') {
            cfg.host(h);
        }
    }
    if cfg.get_ports().is_empty()
        && let Some(p) = env("PGPORT").and_then(|p| p.parse::<u16>().ok())
    {
        cfg.port(p);
    }
    if cfg.get_user().is_none()
        && let Some(u) = env("PGUSER")
    {
        cfg.user(u);
    }
    if cfg.get_password().is_none()
        && let Some(p) = env("PGPASSWORD")
    {
        cfg.password(p);
    }
    if cfg.get_dbname().is_none()
        && let Some(d) = env("PGDATABASE")
    {
        cfg.dbname(d);
    }
    if cfg.get_connect_timeout().is_none()
        && let Some(t) = env("PGCONNECT_TIMEOUT").and_then(|t| t.parse::<u64>().ok())
    {
        cfg.connect_timeout(Duration::from_secs(t));
    }
    if cfg.get_hosts().is_empty() {
        cfg.host("localhost");
    }
    if cfg.get_user().is_none()
        && let Some(u) = env("USER")
    {
        cfg.user(u);
    }
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

async fn connect(s: &PgSettings, operation: &str) -> Result<Conn, StateError> {
    let (conn_str, tls) = super::pg_tls::split(&s.conn_str)
        .map_err(|m| fail("(conn_str)", "parse the connection string", m))?;
    let mut cfg: tokio_postgres::Config = conn_str.parse().map_err(|e| {
        fail(
            "(conn_str)",
            "parse the connection string",
            format!(
                "expected postgres://user@host:port/db or key=value pairs, found an invalid one: {}",
                pg_message(&e, None).replace(&s.conn_str, "(conn_str)")
            ),
        )
    })?;
    with_libpq_env(&mut cfg);
    cfg.ssl_mode(tls.mode.ssl_mode());
    let password = cfg
        .get_password()
        .map(|p| String::from_utf8_lossy(p).to_string());
    let host = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let target = format!(
        "{}@{host}:{port}/{} workspace \"{}\"",
        cfg.get_user().unwrap_or("?"),
        cfg.get_dbname().unwrap_or(cfg.get_user().unwrap_or("?")),
        s.workspace
    );
    cfg.application_name(format!("snapform {operation} pid {}", std::process::id()));
    if cfg.get_connect_timeout().is_none() {
        cfg.connect_timeout(Duration::from_secs(10));
    }
    let failed = |e: tokio_postgres::Error| {
        let mut m = pg_message(&e, password.as_deref());
        if m.contains("certificate") {
            m.push_str(&format!(
                " (sslmode={}; verify-ca and verify-full check the server's certificate against sslrootcert or PGSSLROOTCERT)",
                tls.mode.name()
            ));
        }
        fail(&target, "connect", m)
    };
    let client = if tls.mode == super::pg_tls::Mode::Disable {
        let (client, connection) = cfg.connect(NoTls).await.map_err(failed)?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    } else {
        let config =
            super::pg_tls::client_config(&tls).map_err(|m| fail(&target, "set up TLS", m))?;
        let (client, connection) = cfg
            .connect(tokio_postgres_rustls::MakeRustlsConnect::new(config))
            .await
            .map_err(failed)?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    };
    let table = format!("{}.states", quote_ident(&s.schema_name));
    let log_table = format!("{}.state_log", quote_ident(&s.schema_name));
    let history_table = format!("{}.state_history", quote_ident(&s.schema_name));
    Ok(Conn {
        client,
        log_table,
        history_table,
        target,
        table,
    })
}

impl PgBackend {
    /// Connects and takes the workspace's advisory lock (waiting up to `lock_timeout`); with
    /// `None`, takes no lock (`-lock=false`).
    pub async fn open(
        s: &PgSettings,
        lock_timeout: Option<Duration>,
        operation: &str,
    ) -> Result<PgBackend, StateError> {
        let c = connect(s, operation).await?;
        let setup = format!(
            "BEGIN; SELECT pg_advisory_xact_lock({SETUP_KEY}); \
             CREATE SCHEMA IF NOT EXISTS {schema}; \
             CREATE TABLE IF NOT EXISTS {table} (name text PRIMARY KEY, data jsonb NOT NULL, \
               serial bigint NOT NULL, lineage text NOT NULL, \
               updated timestamptz NOT NULL DEFAULT now()); \
             CREATE TABLE IF NOT EXISTS {log} (name text NOT NULL, serial bigint NOT NULL, \
               lineage text NOT NULL, record jsonb NOT NULL, PRIMARY KEY (name, serial)); \
             CREATE TABLE IF NOT EXISTS {history} (name text NOT NULL, serial bigint NOT NULL, \
               lineage text NOT NULL, data jsonb NOT NULL, \
               saved timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (name, serial)); COMMIT;",
            schema = quote_ident(&s.schema_name),
            table = c.table,
            log = c.log_table,
            history = c.history_table
        );
        c.client
            .batch_execute(&setup)
            .await
            .map_err(|e| fail(&c.target, "create the states table", pg_message(&e, None)))?;
        let key = lock_key(&s.schema_name, &s.workspace);
        let locked = lock_timeout.is_some();
        let deadline = Instant::now() + lock_timeout.unwrap_or_default();
        if locked {
            loop {
                let row = c
                    .client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                    .await
                    .map_err(|e| fail(&c.target, "take the lock", pg_message(&e, None)))?;
                if row.get::<_, bool>(0) {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(StateError::Locked(
                        holder(&c, key).await,
                        "PostgreSQL releases the lock when that run's connection ends: wait for it, \
                         or retry with -lock-timeout=DURATION"
                            .into(),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(PgBackend {
            client: c.client,
            table: c.table,
            log_table: c.log_table,
            history_table: c.history_table,
            log_records: 0,
            log_bytes: 0,
            checkpoint_bytes: 0,
            workspace: s.workspace.clone(),
            key,
            target: c.target,
            last: None,
            stored: None,
            locked,
        })
    }

    pub fn describe(&self) -> String {
        format!("pg {}", self.target)
    }

    pub async fn read(&mut self) -> Result<State, StateError> {
        let sql = format!("SELECT data::text FROM {} WHERE name = $1", self.table);
        let row = self
            .client
            .query_opt(&sql, &[&self.workspace])
            .await
            .map_err(|e| fail(&self.target, "read the state", pg_message(&e, None)))?;
        let Some(row) = row else {
            self.stored = None;
            self.last = None;
            return Ok(State::new());
        };
        let text: &str = row.get(0);
        let mut state = parse_state(text, "pg", &self.target)?;
        let (records, bytes) = replay(
            &self.client,
            &self.log_table,
            &self.workspace,
            &self.target,
            &mut state,
        )
        .await?;
        (self.log_records, self.log_bytes) = (records, bytes);
        self.checkpoint_bytes = text.len() as u64;
        self.stored = Some((state.lineage.clone(), state.serial as i64));
        self.last = Some(state.clone());
        Ok(state)
    }

    /// Records what changed since the last write as one row of the log (`delta` names the
    /// resources touched), durable when this returns; bumps `serial`. The state row is
    /// rewritten only at a checkpoint: when the log has grown to its size (and past
    /// [`super::local::CHECKPOINT_EVERY`] records), or at the end of the run.
    pub async fn write_delta(
        &mut self,
        state: &mut State,
        delta: &super::Delta,
    ) -> Result<(), StateError> {
        super::codec::check_lineage(self.stored.as_ref().map(|s| s.0.as_str()), state)?;
        let due = self.log_records >= super::local::CHECKPOINT_EVERY
            && self.log_bytes >= self.checkpoint_bytes;
        let (Some(prev), Some(_), false) = (self.last.as_mut(), &self.stored, due) else {
            return self.write(state, true).await;
        };
        let Some(mut record) = super::log::Record::between(prev, state, delta) else {
            return Ok(());
        };
        let serial = prev.serial.max(state.serial) + 1;
        record.serial = serial;
        let text = serde_json::to_string(&record)
            .map_err(|e| fail(&self.target, "encode the state", e.to_string()))?;
        let text = super::crypt::seal(&text).map_err(StateError::Encryption)?;
        let target = self.target.clone();
        let db = |e: tokio_postgres::Error| fail(&target, "write the state", pg_message(&e, None));
        let tx = self.client.transaction().await.map_err(db)?;
        let now = stored_now(&tx, &self.table, &self.log_table, &self.workspace)
            .await
            .map_err(db)?;
        if now != self.stored {
            return Err(changed_underneath(&self.target, &self.stored, &now));
        }
        let sql = format!(
            "INSERT INTO {} (name, serial, lineage, record) VALUES ($1, $2, $3, $4::text::jsonb)",
            self.log_table
        );
        let serial_i = serial as i64;
        tx.execute(&sql, &[&self.workspace, &serial_i, &record.lineage, &text])
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        record.apply_to(prev);
        state.serial = serial;
        self.stored = Some((state.lineage.clone(), serial as i64));
        self.log_records += 1;
        self.log_bytes += text.len() as u64;
        Ok(())
    }

    pub async fn write(&mut self, state: &mut State, check: bool) -> Result<(), StateError> {
        if check {
            super::codec::check_lineage(self.stored.as_ref().map(|s| s.0.as_str()), state)?;
        }
        let prepared = prepare(
            self.last.as_ref(),
            self.stored.as_ref().map(|s| s.1 as u64),
            state,
        )
        .map_err(|m| fail(&self.target, "encode the state", m))?;
        let Some((serial, text)) = (match prepared {
            Some(p) => Some(p),
            // Nothing new, but the log holds records: fold them into the row (same serial).
            None if self.log_records > 0 => Some((
                state.serial,
                super::crypt::seal(
                    &serde_json::to_string_pretty(&*state)
                        .map_err(|e| fail(&self.target, "encode the state", e.to_string()))?,
                )
                .map_err(StateError::Encryption)?,
            )),
            None => None,
        }) else {
            return Ok(());
        };
        let target = self.target.clone();
        let db = |e: tokio_postgres::Error| fail(&target, "write the state", pg_message(&e, None));
        let tx = self.client.transaction().await.map_err(db)?;
        let now = stored_now(&tx, &self.table, &self.log_table, &self.workspace)
            .await
            .map_err(db)?;
        if check && let Some((lineage, _)) = &now {
            super::codec::check_lineage(Some(lineage), state)?;
        }
        if now != self.stored {
            return Err(changed_underneath(&self.target, &self.stored, &now));
        }
        put_checkpoint(
            &tx,
            [&self.table, &self.history_table],
            &self.workspace,
            serial as i64,
            &state.lineage,
            &text,
        )
        .await
        .map_err(db)?;
        if super::crypt::read_clear_text() {
            // Encrypting a state written in clear: its history is sealed too.
            let sql = format!(
                "SELECT serial, data::text FROM {} WHERE name = $1",
                self.history_table
            );
            for row in tx.query(&sql, &[&self.workspace]).await.map_err(db)? {
                let old: &str = row.get(1);
                if let Some(sealed) =
                    super::crypt::reseal_if_clear(old).map_err(StateError::Encryption)?
                {
                    let sql = format!(
                        "UPDATE {} SET data = $3::text::jsonb WHERE name = $1 AND serial = $2",
                        self.history_table
                    );
                    let serial: i64 = row.get(0);
                    tx.execute(&sql, &[&self.workspace, &serial, &sealed])
                        .await
                        .map_err(db)?;
                }
            }
        }
        // The checkpoint holds everything the log did.
        let sql = format!("DELETE FROM {} WHERE name = $1", self.log_table);
        tx.execute(&sql, &[&self.workspace]).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        self.log_records = 0;
        self.log_bytes = 0;
        self.checkpoint_bytes = text.len() as u64;
        state.serial = serial;
        self.stored = Some((state.lineage.clone(), serial as i64));
        self.last = Some(state.clone());
        Ok(())
    }

    pub async fn unlock(self) -> Result<(), StateError> {
        if !self.locked {
            return Ok(());
        }
        self.client
            .query_one("SELECT pg_advisory_unlock($1)", &[&self.key])
            .await
            .map_err(|e| fail(&self.target, "release the lock", pg_message(&e, None)))?;
        Ok(())
    }
}

/// Who holds the advisory lock `key`, from `pg_locks` and `pg_stat_activity`.
async fn holder(c: &Conn, key: i64) -> String {
    let (hi, lo) = (((key as u64) >> 32) as u32, key as u64 as u32);
    let sql = "SELECT a.pid, coalesce(a.application_name, ''), \
               coalesce(host(a.client_addr), 'local socket'), \
               coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') \
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
               WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 \
               AND l.objsubid = 1";
    match c.client.query_opt(sql, &[&hi, &lo]).await {
        Ok(Some(r)) => {
            let app: String = r.get(1);
            format!(
                "PostgreSQL session pid {} \"{}\" from {} since {}; {}",
                r.get::<_, i32>(0),
                if app.is_empty() {
                    "unnamed client"
                } else {
                    &app
                },
                r.get::<_, String>(2),
                r.get::<_, String>(3),
                c.target
            )
        }
        Ok(None) => format!("an advisory lock on {} (holder not visible)", c.target),
        Err(e) => format!("{}; holder unknown: {}", c.target, pg_message(&e, None)),
    }
}

/// The (lineage, serial) stored now — the row's, or the last log record's after it — with the
/// row locked until the transaction ends.
async fn stored_now(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    log_table: &str,
    workspace: &str,
) -> Result<Option<(String, i64)>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT s.lineage, greatest(s.serial, coalesce((SELECT max(l.serial) FROM {log_table} l \
         WHERE l.name = s.name AND l.lineage = s.lineage), 0)) FROM {table} s \
         WHERE s.name = $1 FOR UPDATE OF s"
    );
    let row = tx.query_opt(&sql, &[&workspace]).await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

fn changed_underneath(
    target: &str,
    expected: &Option<(String, i64)>,
    found: &Option<(String, i64)>,
) -> StateError {
    let show = |v: &Option<(String, i64)>| match v {
        Some((l, s)) => format!("lineage {l} serial {s}"),
        None => "no state".into(),
    };
    fail(
        target,
        "write the state",
        format!(
            "the stored state changed while this run held the lock: expected {}, found {}; nothing was written",
            show(expected),
            show(found)
        ),
    )
}

/// Replays the log records newer than `state` (same lineage, in serial order) onto it; their
/// number and bytes.
async fn replay(
    client: &Client,
    log_table: &str,
    workspace: &str,
    target: &str,
    state: &mut State,
) -> Result<(u64, u64), StateError> {
    let sql = format!(
        "SELECT record::text FROM {log_table} WHERE name = $1 AND lineage = $2 AND serial > $3 \
         ORDER BY serial"
    );
    let serial = state.serial as i64;
    let rows = client
        .query(&sql, &[&workspace, &state.lineage, &serial])
        .await
        .map_err(|e| fail(target, "read the state log", pg_message(&e, None)))?;
    let mut bytes = 0;
    for row in &rows {
        let text: &str = row.get(0);
        bytes += text.len() as u64;
        let text = super::crypt::open(text, &format!("the state log at {target} (pg backend)"))
            .map_err(StateError::Encryption)?;
        let record: super::log::Record =
            serde_json::from_str(&text).map_err(|e| StateError::Corrupt {
                path: format!("{target} (pg backend, state_log)"),
                message: e.to_string(),
            })?;
        record.apply_to(state);
    }
    Ok((rows.len() as u64, bytes))
}

/// Whether `table` (schema-qualified, quoted) exists.
async fn table_exists(client: &Client, table: &str) -> Result<bool, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await?;
    Ok(row.get(0))
}

/// Writes a checkpoint: the workspace's row of `states` (`tables[0]`) and its copy in the
/// history (`tables[1]`; a serial written twice keeps the last).
async fn put_checkpoint(
    tx: &tokio_postgres::Transaction<'_>,
    tables: [&str; 2],
    workspace: &str,
    serial: i64,
    lineage: &str,
    text: &str,
) -> Result<(), tokio_postgres::Error> {
    let sql = format!(
        "INSERT INTO {} (name, data, serial, lineage, updated) \
         VALUES ($1, $2::text::jsonb, $3, $4, now()) \
         ON CONFLICT (name) DO UPDATE SET data = excluded.data, serial = excluded.serial, \
         lineage = excluded.lineage, updated = excluded.updated",
        tables[0]
    );
    tx.execute(&sql, &[&workspace, &text, &serial, &lineage])
        .await?;
    let sql = format!(
        "INSERT INTO {} (name, serial, lineage, data) VALUES ($1, $2, $3, $4::text::jsonb) \
         ON CONFLICT (name, serial) DO UPDATE SET lineage = excluded.lineage, \
         data = excluded.data, saved = now()",
        tables[1]
    );
    tx.execute(&sql, &[&workspace, &serial, &lineage, &text])
        .await?;
    Ok(())
}

/// One kept serial of a workspace's state.
#[derive(Clone, Debug)]
pub struct Kept {
    pub serial: u64,
    pub lineage: String,
    /// When it was written (RFC 3339, UTC), where the backend knows.
    pub saved: Option<String>,
}

/// The serials `state_history` keeps for the workspace, oldest first.
pub async fn history(s: &PgSettings) -> Result<Vec<Kept>, StateError> {
    let c = connect(s, "state-list-serials").await?;
    let err = |e: tokio_postgres::Error| fail(&c.target, "read the history", pg_message(&e, None));
    if !table_exists(&c.client, &c.history_table)
        .await
        .map_err(err)?
    {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT serial, lineage, to_char(saved AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
         FROM {} WHERE name = $1 ORDER BY serial",
        c.history_table
    );
    let rows = c.client.query(&sql, &[&s.workspace]).await.map_err(err)?;
    Ok(rows
        .iter()
        .map(|r| Kept {
            serial: r.get::<_, i64>(0) as u64,
            lineage: r.get(1),
            saved: r.get(2),
        })
        .collect())
}

/// The state as it was at `serial`, if the history keeps it.
pub async fn read_serial(s: &PgSettings, serial: u64) -> Result<Option<State>, StateError> {
    let c = connect(s, "state-pull").await?;
    let err = |e: tokio_postgres::Error| fail(&c.target, "read the history", pg_message(&e, None));
    if !table_exists(&c.client, &c.history_table)
        .await
        .map_err(err)?
    {
        return Ok(None);
    }
    let sql = format!(
        "SELECT data::text FROM {} WHERE name = $1 AND serial = $2",
        c.history_table
    );
    match c
        .client
        .query_opt(&sql, &[&s.workspace, &(serial as i64)])
        .await
        .map_err(err)?
    {
        Some(row) => Ok(Some(parse_state(row.get(0), "pg", &c.target)?)),
        None => Ok(None),
    }
}

/// The names of the workspaces that have a row (none without the table).
pub async fn workspace_names(s: &PgSettings) -> Result<Vec<String>, StateError> {
    let c = connect(s, "workspace-list").await?;
    let err =
        |e: tokio_postgres::Error| fail(&c.target, "list the workspaces", pg_message(&e, None));
    if !table_exists(&c.client, &c.table).await.map_err(err)? {
        return Ok(Vec::new());
    }
    let rows = c
        .client
        .query(&format!("SELECT name FROM {} ORDER BY name", c.table), &[])
        .await
        .map_err(err)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Creates the row of workspace `s.workspace` with an empty state (serial 0), under its lock;
/// false when the row exists.
pub async fn create_workspace(s: &PgSettings) -> Result<bool, StateError> {
    let b = PgBackend::open(s, Some(Duration::from_secs(10)), "workspace-new").await?;
    let state = State::new();
    let text = serde_json::to_string_pretty(&state)
        .map_err(|e| fail(&b.target, "create the workspace", e.to_string()))?;
    let text = super::crypt::seal(&text).map_err(StateError::Encryption)?;
    let sql = format!(
        "INSERT INTO {} (name, data, serial, lineage) VALUES ($1, $2::text::jsonb, 0, $3) \
         ON CONFLICT (name) DO NOTHING",
        b.table
    );
    let n = b
        .client
        .execute(&sql, &[&b.workspace, &text, &state.lineage])
        .await
        .map_err(|e| fail(&b.target, "create the workspace", pg_message(&e, None)))?;
    b.unlock().await?;
    Ok(n == 1)
}

impl PgBackend {
    /// Stores `state` exactly as it is, serial and lineage included (`init -migrate-state`),
    /// replacing the row and emptying its log (the lock is held).
    pub async fn copy_in(&mut self, state: &State) -> Result<(), StateError> {
        let target = self.target.clone();
        let db = |e: tokio_postgres::Error| fail(&target, "write the state", pg_message(&e, None));
        let text = serde_json::to_string_pretty(state)
            .map_err(|e| fail(&self.target, "write the state", e.to_string()))?;
        let text = super::crypt::seal(&text).map_err(StateError::Encryption)?;
        let serial = state.serial as i64;
        let tx = self.client.transaction().await.map_err(db)?;
        put_checkpoint(
            &tx,
            [&self.table, &self.history_table],
            &self.workspace,
            serial,
            &state.lineage,
            &text,
        )
        .await
        .map_err(db)?;
        let sql = format!("DELETE FROM {} WHERE name = $1", self.log_table);
        tx.execute(&sql, &[&self.workspace]).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        self.stored = Some((state.lineage.clone(), serial));
        self.last = Some(state.clone());
        self.log_records = 0;
        self.log_bytes = 0;
        self.checkpoint_bytes = text.len() as u64;
        Ok(())
    }

    /// Deletes this workspace's row and log rows (the lock is held).
    pub async fn delete_workspace(&mut self) -> Result<(), StateError> {
        let target = self.target.clone();
        let db =
            |e: tokio_postgres::Error| fail(&target, "delete the workspace", pg_message(&e, None));
        let tx = self.client.transaction().await.map_err(db)?;
        for table in [&self.table, &self.log_table, &self.history_table] {
            let sql = format!("DELETE FROM {table} WHERE name = $1");
            tx.execute(&sql, &[&self.workspace]).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        self.last = None;
        self.stored = None;
        Ok(())
    }
}

/// Reads a workspace's state without the lock; no table or no row is an empty state.
pub async fn read_unlocked(s: &PgSettings) -> Result<State, StateError> {
    let c = connect(s, "read").await?;
    let err = |e: tokio_postgres::Error| fail(&c.target, "read the state", pg_message(&e, None));
    if !table_exists(&c.client, &c.table).await.map_err(err)? {
        return Ok(State::new());
    }
    let sql = format!("SELECT data::text FROM {} WHERE name = $1", c.table);
    let mut state = match c.client.query_opt(&sql, &[&s.workspace]).await {
        Ok(Some(row)) => parse_state(row.get(0), "pg", &c.target)?,
        Ok(None) => return Ok(State::new()),
        Err(e) => return Err(fail(&c.target, "read the state", pg_message(&e, None))),
    };
    if table_exists(&c.client, &c.log_table).await.map_err(err)? {
        replay(&c.client, &c.log_table, &s.workspace, &c.target, &mut state).await?;
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_key_is_stable_and_distinct_per_workspace() {
        assert_eq!(
            lock_key("snapform", "default"),
            lock_key("snapform", "default")
        );
        assert_ne!(
            lock_key("snapform", "default"),
            lock_key("snapform", "prod")
        );
        assert_ne!(lock_key("a", "default"), lock_key("b", "default"));
    }

    #[test]
    fn identifiers_are_quoted_and_settings_hide_the_connection_string() {
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        let s = PgSettings {
            conn_str: "postgres://u:hunter2@h/db".into(),
            schema_name: "snapform".into(),
            workspace: "default".into(),
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
