//! A private PostgreSQL 15 cluster for localbase: initialised on first use, started with
//! logical decoding enabled, stopped on exit. PostgreSQL refuses to run as root, so when
//! localbase runs as root the cluster's files belong to, and its processes run as, the
//! unprivileged `postgres` user. Nobody else on the machine gets in: every connection,
//! local or TCP, authenticates with SCRAM and a password generated at initialisation,
//! kept in the data folder (mode 0600). A folder made by an older localbase, which
//! trusted every local user, is given a password the first time it is started.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::error::{Error, Result};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const RUN_AS: &str = "postgres";

/// A PostgreSQL cluster in a local folder, listening on 127.0.0.1.
#[derive(Debug)]
pub struct Cluster {
    data_dir: PathBuf,
    port: u16,
    password: String,
}

/// The superuser's password, beside the cluster's own files.
const PASSWORD_FILE: &str = "localbase_password";

/// Who may connect, and how: everyone with the password, nobody without.
const PG_HBA: &str = "# Written by localbase: every connection authenticates with SCRAM.
local   all             all                                     scram-sha-256
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     scram-sha-256
host    replication     all             127.0.0.1/32            scram-sha-256
";

impl Cluster {
    /// Initialises the cluster if `data_dir` holds none, starts it unless it already runs,
    /// and reports whether it was initialised just now (so the caller seeds it once).
    pub fn ensure_running(data_dir: &Path, port: u16) -> Result<(Cluster, bool)> {
        let data_dir = reachable_by_postgres(absolute(data_dir)?);
        let mut cluster = Cluster {
            data_dir,
            port,
            password: String::new(),
        };
        let fresh = !cluster.data_dir.join("PG_VERSION").exists();
        if fresh {
            cluster.init()?;
        }
        let secured = cluster.read_password();
        if !cluster.is_running() {
            cluster.start()?;
        }
        if !secured {
            cluster.secure()?;
        }
        Ok((cluster, fresh))
    }

    /// Stops the cluster in `data_dir` if one runs there.
    pub fn stop_dir(data_dir: &Path) -> Result<()> {
        let data_dir = reachable_by_postgres(absolute(data_dir)?);
        if !data_dir.join("PG_VERSION").exists() {
            return Ok(());
        }
        Cluster {
            data_dir,
            port: 0,
            password: String::new(),
        }
        .stop()
    }

    /// Connection string for a database of this cluster, as the superuser.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn init(&self) -> Result<()> {
        std::fs::create_dir_all(&self.data_dir)?;
        if is_root() {
            run(Command::new("chown")
                .args(["-R", RUN_AS])
                .arg(&self.data_dir))?;
        }
        tracing::info!(dir = %self.data_dir.display(), "initialising PostgreSQL cluster");
        // initdb wants a password file to write SCRAM rules itself; instead its trust rules
        // are replaced before the server first starts, so they never take effect.
        run(self
            .pg_command("initdb")
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "-D",
            ])
            .arg(&self.data_dir))?;
        std::fs::write(self.data_dir.join("pg_hba.conf"), PG_HBA)?;
        // The password is set in single-user mode, before the server ever listens: there is
        // no moment at which anyone gets in without it.
        let password = new_password();
        let mut single = self.pg_command("postgres");
        single
            .args(["--single", "-D"])
            .arg(&self.data_dir)
            .arg("postgres");
        run_with_input(
            &mut single,
            &format!("alter role postgres password '{password}';\n"),
        )?;
        self.write_password(&password)
    }

    /// Reads the stored password; false for a folder without one (an older localbase's).
    fn read_password(&mut self) -> bool {
        match std::fs::read_to_string(self.data_dir.join(PASSWORD_FILE)) {
            Ok(password) if !password.trim().is_empty() => {
                self.password = password.trim().to_string();
                true
            }
            _ => false,
        }
    }

    fn write_password(&self, password: &str) -> Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(self.data_dir.join(PASSWORD_FILE))?;
        file.write_all(password.as_bytes())?;
        Ok(())
    }

    /// An older folder trusted every local user: give the superuser a password, then
    /// require it everywhere.
    fn secure(&mut self) -> Result<()> {
        tracing::info!("giving the PostgreSQL cluster a password (it trusted local users)");
        let password = new_password();
        let mut psql = self.pg_command("psql");
        psql.arg("-h")
            .arg(&self.data_dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-f", "-"]);
        run_with_input(
            &mut psql,
            &format!("alter role postgres password '{password}';\n"),
        )?;
        std::fs::write(self.data_dir.join("pg_hba.conf"), PG_HBA)?;
        run(self
            .pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("reload"))?;
        self.write_password(&password)?;
        self.password = password;
        Ok(())
    }

    fn start(&self) -> Result<()> {
        if std::net::TcpListener::bind(("127.0.0.1", self.port)).is_err() {
            return Err(Error::Cluster(format!(
                "port {} is already in use (another localbase or PostgreSQL?); choose another with --db-port",
                self.port
            )));
        }
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c wal_level=logical \
             -c max_replication_slots=20 -c max_wal_senders=20 -c max_connections=200 \
             -c timezone=UTC",
            self.port,
            self.data_dir.display()
        );
        tracing::info!(port = self.port, "starting PostgreSQL");
        run(self
            .pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(self.data_dir.join("postgres.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]))?;
        Ok(())
    }

    /// Makes sure the cluster does not outlive the process `pid` (this localbase), even if
    /// that process is killed outright: a small watcher, started now, stops this very
    /// postmaster (fast shutdown) within a second or two of the process disappearing —
    /// and leaves alone a postmaster a later localbase started on the same folder.
    pub fn stop_when_gone(&self, pid: u32) -> Result<()> {
        let pid_file = self.data_dir.join("postmaster.pid");
        let pid_file = format!("'{}'", pid_file.to_string_lossy().replace('\'', "'\\''"));
        let script = format!(
            "pm=$(head -n 1 {pid_file}); \
             while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             [ -n \"$pm\" ] && [ \"$(head -n 1 {pid_file} 2>/dev/null)\" = \"$pm\" ] && kill -INT \"$pm\""
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        Ok(())
    }

    /// True when a postmaster serves this data folder.
    pub fn is_running(&self) -> bool {
        self.pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("status")
            .output()
            .map(|out| out.status.success())
            .unwrap_or(false)
    }

    /// Fast shutdown: open sessions are ended, committed data is kept.
    pub fn stop(&self) -> Result<()> {
        if !self.is_running() {
            return Ok(());
        }
        tracing::info!("stopping PostgreSQL");
        run(self
            .pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w", "stop"]))?;
        Ok(())
    }

    fn pg_command(&self, program: &str) -> Command {
        let path = Path::new(PG_BIN).join(program);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", RUN_AS, "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }
}

/// As root, the cluster's files belong to `postgres`, which must be able to reach them:
/// a checkout under a private home (`/root` is 0700) cannot host them, so the cluster
/// moves to a folder of the same name under `/var/tmp/localbase`.
fn reachable_by_postgres(data_dir: PathBuf) -> PathBuf {
    if !is_root() {
        return data_dir;
    }
    let mut nearest = data_dir.as_path();
    while !nearest.exists() {
        match nearest.parent() {
            Some(parent) => nearest = parent,
            None => return data_dir,
        }
    }
    let reachable = Command::new("runuser")
        .args(["-u", RUN_AS, "--", "test", "-x"])
        .arg(nearest)
        .status()
        .is_ok_and(|status| status.success());
    if reachable {
        return data_dir;
    }
    let name: String = data_dir
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let moved = Path::new("/var/tmp/localbase").join(name);
    tracing::warn!(
        from = %data_dir.display(),
        to = %moved.display(),
        "the postgres user cannot reach the data folder; using another"
    );
    moved
}

fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    })
}

fn is_root() -> bool {
    // The effective uid is the owner of /proc/self; no libc call needed.
    std::fs::metadata("/proc/self")
        .map(|meta| std::os::unix::fs::MetadataExt::uid(&meta) == 0)
        .unwrap_or(false)
}

/// 32 random letters and digits (safe in a URL and in SQL as they are).
fn new_password() -> String {
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

fn run_with_input(command: &mut Command, input: &str) -> Result<Output> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(Error::Cluster(format!(
            "{:?} failed: {}{}",
            command,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

fn run(command: &mut Command) -> Result<Output> {
    let output = command.output()?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(Error::Cluster(format!(
            "{:?} failed: {}{}",
            command,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}
