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
    /// With `start_tls`: the PEM file of the authority that signed the server's certificate.
    pub ca_cert: Option<PathBuf>,
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

/// Runs openssl; panics with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A certificate authority `NAME.crt`/`NAME.key` in `dir` (ECDSA P-256, valid 3 days).
pub fn make_ca(dir: &Path, name: &str) {
    let (crt, key) = (format!("{name}.crt"), format!("{name}.key"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "3",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

impl Postgres {
    pub fn start() -> Option<Postgres> {
        Self::start_with(false)
    }

    /// A server that accepts TCP connections only over TLS (`hostnossl … reject`), with a
    /// certificate for `localhost` and 127.0.0.1 signed by a throwaway authority (`ca_cert`).
    /// The test's own `client` connects through the Unix socket.
    pub fn start_tls() -> Option<Postgres> {
        if Command::new("openssl").arg("version").output().is_err() {
            return skip("no openssl to make the test certificates".into());
        }
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Option<Postgres> {
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
            ca_cert: None,
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
        if tls {
            pg.setup_tls();
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

    fn setup_tls(&mut self) {
        let certs = self.dir.path().join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        make_ca(&certs, "ca");
        openssl(
            &certs,
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        );
        std::fs::write(
            certs.join("ext.cnf"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            &certs,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "3",
                "-extfile",
                "ext.cnf",
            ],
        );
        let data = PathBuf::from(self.data());
        for f in ["server.crt", "server.key"] {
            let to = data.join(f);
            std::fs::copy(certs.join(f), &to).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
            if self.run_as.is_some() {
                let uid = id(&["-u", "postgres"]);
                let gid = id(&["-g", "postgres"]);
                std::os::unix::fs::chown(&to, uid, gid).unwrap();
            }
        }
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(&conf, text).unwrap();
        let hba = data.join("pg_hba.conf");
        let text = std::fs::read_to_string(&hba).unwrap();
        std::fs::write(&hba, format!("hostnossl all all all reject\n{text}")).unwrap();
        self.ca_cert = Some(certs.join("ca.crt"));
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

    /// Makes the stored state of `workspace` another one, as far as its lineage tells (what a
    /// second team's state in the same table would look like).
    pub async fn set_lineage(&self, workspace: &str, lineage: &str) {
        self.client("test-writer")
            .await
            .execute(
                "UPDATE snapform.states SET lineage = $2, \
                 data = jsonb_set(data, '{lineage}', to_jsonb($2::text)) WHERE name = $1",
                &[&workspace, &lineage],
            )
            .await
            .expect("set the lineage");
    }

    fn kv(&self) -> String {
        // A TLS-only server refuses plain TCP: the test's own client uses the socket.
        let host = match self.ca_cert {
            Some(_) => self.dir.path().display().to_string(),
            None => "127.0.0.1".into(),
        };
        format!(
            "host={host} port={} user=snapform dbname=postgres",
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
