//! A throwaway PostgreSQL server for tests: `initdb` into a temporary directory and `pg_ctl start`
//! on 127.0.0.1 with a free port, stopped with `pg_ctl stop -m fast` on drop. As root (initdb
//! refuses root) the cluster belongs to the `postgres` user and commands run via `runuser`.
//! Without PostgreSQL binaries `start` returns `None` after printing why, unless
//! `SNAPFORM_PG_REQUIRED=1`, when it fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    run_as: Option<String>,
    pub port: u16,
}

fn required() -> bool {
    std::env::var("SNAPFORM_PG_REQUIRED").is_ok_and(|v| v == "1")
}

/// Skips (prints the reason, returns `None`) or, when PostgreSQL is required, panics.
fn skip(reason: String) -> Option<Postgres> {
    if required() {
        panic!("SNAPFORM_PG_REQUIRED=1 but {reason}");
    }
    eprintln!("skipping the PostgreSQL test: {reason}");
    None
}

/// The directory holding `initdb` and `pg_ctl`: PATH first, then /usr/lib/postgresql/*/bin.
fn find_bin() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for d in std::env::split_paths(&path) {
        if d.join("initdb").is_file() && d.join("pg_ctl").is_file() {
            return Some(d);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn output(cmd: &mut Command) -> Result<Output, String> {
    cmd.output().map_err(|e| format!("cannot run {cmd:?}: {e}"))
}

fn id(args: &[&str]) -> Option<u32> {
    let o = Command::new("id").args(args).output().ok()?;
    String::from_utf8_lossy(&o.stdout).trim().parse().ok()
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

impl Postgres {
    pub fn start() -> Option<Postgres> {
        let Some(bin) = find_bin() else {
            return skip("no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin".into());
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let run_as = if id(&["-u"]) == Some(0) {
            let Some(uid) = id(&["-u", "postgres"]) else {
                return skip("running as root and there is no postgres user for initdb".into());
            };
            let gid = id(&["-g", "postgres"]).unwrap_or(uid);
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown cluster dir");
            Some("postgres".to_string())
        } else {
            None
        };
        let mut pg = Postgres {
            dir,
            bin,
            run_as,
            port: 0,
        };
        let data = pg.data();
        let o = output(pg.cmd("initdb").args([
            "-D",
            &data,
            "-U",
            "snapform",
            "--auth=trust",
            "--no-locale",
            "--encoding=UTF8",
            "--no-sync",
        ]));
        match o {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return skip(format!(
                    "initdb failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                ));
            }
            Err(e) => return skip(e),
        }
        // A port found free may be taken before the server binds it: try a few.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let opts = format!(
                "-k {} -h 127.0.0.1 -p {port} -c fsync=off",
                pg.dir.path().display()
            );
            let log = pg.dir.path().join("server.log").display().to_string();
            let o = output(pg.cmd("pg_ctl").args([
                "-D", &data, "-o", &opts, "-l", &log, "-w", "-t", "30", "start",
            ]));
            match o {
                Ok(o) if o.status.success() => {
                    pg.port = port;
                    return Some(pg);
                }
                Ok(o) => {
                    last = format!(
                        "{}{}",
                        String::from_utf8_lossy(&o.stderr),
                        std::fs::read_to_string(&log).unwrap_or_default()
                    )
                }
                Err(e) => last = e,
            }
        }
        panic!("PostgreSQL did not start: {last}");
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn cmd(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A connection string for the superuser `snapform` (any password is accepted: trust auth).
    pub fn conn_str(&self, password: Option<&str>) -> String {
        match password {
            Some(p) => format!("postgres://snapform:{p}@127.0.0.1:{}/postgres", self.port),
            None => format!("postgres://snapform@127.0.0.1:{}/postgres", self.port),
        }
    }

    /// A client connection from the test itself (no snapform code involved).
    pub async fn client(&self, application_name: &str) -> tokio_postgres::Client {
        let conn = format!("{} application_name={application_name}", self.kv());
        let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
            .await
            .expect("connect to the test PostgreSQL");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }

    fn kv(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=snapform dbname=postgres",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .cmd("pg_ctl")
            .args(["-D", &data, "stop", "-m", "fast", "-w", "-t", "30"])
            .output();
    }
}
