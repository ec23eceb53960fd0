//! Test services on loopback: a throwaway PostgreSQL cluster and a moto
//! server, each on a free port, stopped when dropped. Which services this
//! machine has is probed before the tests run ([`Need`]); a test whose
//! service is missing is listed as ignored (`main.rs`), so a started
//! service that fails is a failure.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A service some tests need.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Need {
    Postgres,
    Moto,
    /// Chromium, chromedriver, Node.js and the site validators in node_modules.
    Browser,
    /// The two Lambda binaries (other packages of the workspace: `cargo
    /// build --workspace` builds them; scripts/test.sh does).
    Lambdas,
}

impl Need {
    /// Why the service is missing on this machine, if it is.
    pub(crate) fn missing(self) -> Option<String> {
        match self {
            Need::Postgres => postgres_bin()
                .is_none()
                .then(|| "PostgreSQL: no /usr/lib/postgresql/*/bin/initdb (set PG_BIN)".into()),
            Need::Moto => {
                let server = venv().join("bin/moto_server");
                (!server.exists()).then(|| format!("moto: {} not found", server.display()))
            }
            Need::Browser => site_tools().err(),
            Need::Lambdas => ["pricewatch-ingest", "pricewatch-operator"]
                .iter()
                .map(|name| workspace_bin(name))
                .find(|bin| !bin.exists())
                .map(|bin| format!("{} not built: run `cargo build --workspace`", bin.display())),
        }
    }
}

/// A binary of another package of the workspace, next to this test's
/// (`target/<profile>/`).
pub(crate) fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/it-<hash> → target/<profile>/<name>
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .join(name)
}

fn venv() -> PathBuf {
    std::env::var_os("PRICEWATCH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_dir().join(".venv"))
}

/// The site's judges, installed by scripts/test.sh (`ensure_site_validators`):
/// Node.js, html-validate and @axe-core/cli in node_modules, Debian's
/// Chromium and chromedriver.
pub(crate) struct SiteTools {
    /// node_modules/.bin
    pub bin: PathBuf,
    pub browser: PathBuf,
    pub chromedriver: PathBuf,
}

/// The site tools, or what is missing (scripts/test.sh installs them).
pub(crate) fn site_tools() -> Result<SiteTools, String> {
    let node_modules = std::env::var_os("PRICEWATCH_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_dir().join("node_modules"));
    let bin = node_modules.join(".bin");
    if Command::new("node").arg("--version").output().is_err() {
        return Err("Node.js (`node`)".into());
    }
    for tool in ["html-validate", "axe"] {
        if !bin.join(tool).exists() {
            return Err(format!("{} (npm ci)", bin.join(tool).display()));
        }
    }
    let browser = chromium().ok_or("Chromium (Debian package chromium)")?;
    // CHROMEDRIVER: the driver of that browser (scripts/lib.sh sets it).
    let chromedriver = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    if !chromedriver.exists() {
        return Err("chromedriver (Debian package chromium-driver)".into());
    }
    Ok(SiteTools {
        bin,
        browser,
        chromedriver,
    })
}

/// Debian's Chromium (or Chrome, as on GitHub's runners), when installed;
/// the same list as `BROWSERS` in scripts/lib.sh.
pub(crate) fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// A copy of the project's environments, templates and SQL to break freely.
pub(crate) fn project_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for sub in ["environments", "templates", "sql"] {
        copy_dir(&project_dir().join(sub), &dir.path().join(sub));
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16, what: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on 127.0.0.1:{port} within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A PostgreSQL cluster in a temp dir, listening on 127.0.0.1 only.
pub(crate) struct Postgres {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<String>,
    _dir: tempfile::TempDir,
}

impl Postgres {
    pub(crate) fn start() -> Postgres {
        let bin = postgres_bin().expect("PostgreSQL is installed (probed by Need::Postgres)");
        let dir = tempfile::Builder::new()
            .prefix("pricewatch-pg-")
            .tempdir()
            .expect("temp dir");
        // initdb refuses to run as root: run the cluster as the postgres user.
        let run_as = is_root().then(|| "postgres".to_string());
        if let Some(user) = &run_as {
            let uid = id_of(user, "-u");
            let gid = id_of(user, "-g");
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("chown the cluster dir");
        }
        let data = dir.path().join("data");
        let port = free_port();
        let pg = Postgres {
            port,
            bin,
            data,
            run_as,
            _dir: dir,
        };
        pg.run(
            "initdb",
            &[
                "-D",
                pg.data.to_str().unwrap(),
                "-U",
                "pricewatch",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let options = format!(
            "-h 127.0.0.1 -p {port} -k {} -F -c fsync=off -c full_page_writes=off",
            pg._dir.path().display()
        );
        pg.run(
            "pg_ctl",
            &[
                "-D",
                pg.data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                pg._dir.path().join("log").to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        wait_for_port(port, "PostgreSQL", Duration::from_secs(30));
        let mut admin = pg.connect("postgres");
        admin
            .batch_execute("CREATE DATABASE pricewatch")
            .expect("create database");
        pg
    }

    pub(crate) fn url(&self) -> String {
        self.url_as("pricewatch")
    }

    /// The database as another login user (trust authentication).
    pub(crate) fn url_as(&self, user: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/pricewatch", self.port)
    }

    /// Moves every record loaded from both streams (rows and heartbeats)
    /// `hours` into the past (their `fetched_at`), as if the pipeline had
    /// stopped then, or as if they had been taken hours before the next.
    pub(crate) fn backdate(&self, hours: u32) {
        let mut db = self.connect("pricewatch");
        for source in ["products", "vendors"] {
            db.batch_execute(&format!(
                "UPDATE pricewatch_meta.kinesis_{source} SET payload = jsonb_set(payload, '{{fetched_at}}', \
                 to_jsonb(to_char(CAST(LEFT(payload ->> 'fetched_at', 19) AS TIMESTAMP) - INTERVAL '{hours} hours', \
                 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')))"
            ))
            .unwrap();
        }
    }

    pub(crate) fn connect(&self, database: &str) -> postgres::Client {
        let url = format!("postgres://pricewatch@127.0.0.1:{}/{database}", self.port);
        postgres::Client::connect(&url, postgres::NoTls).expect("connect to the test PostgreSQL")
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run a PostgreSQL tool");
        assert!(
            output.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data.to_str().unwrap().to_string();
        let program = self.bin.join("pg_ctl");
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        let _ = command
            .args(["-D", &data, "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn postgres_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    id_of("", "-u") == 0
}

fn id_of(user: &str, flag: &str) -> u32 {
    let mut command = Command::new("id");
    command.arg(flag);
    if !user.is_empty() {
        command.arg(user);
    }
    let output = command.output().expect("run id");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("numeric id")
}

/// moto in server mode from the project venv, on a free loopback port,
/// with its request recorder writing to a file of its own.
pub(crate) struct Moto {
    pub port: u16,
    child: Child,
    _recording_dir: tempfile::TempDir,
}

impl Moto {
    pub(crate) fn start() -> Moto {
        let server = venv().join("bin/moto_server");
        let port = free_port();
        let recording_dir = tempfile::tempdir().expect("temp dir");
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env(
                "MOTO_RECORDER_FILEPATH",
                recording_dir.path().join("recording.jsonl"),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto {
            port,
            child,
            _recording_dir: recording_dir,
        };
        wait_for_port(port, "moto", Duration::from_secs(60));
        moto
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A raw HTTP/1.1 request to moto; returns (status, body).
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        use std::io::{Read, Write};
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).expect("send to moto");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read from moto");
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("an HTTP status line");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Forgets earlier requests and records from now on.
    pub(crate) fn start_recording(&self) {
        for action in ["reset-recording", "start-recording"] {
            let (status, body) =
                self.request("POST", &format!("/moto-api/recorder/{action}"), &[], "");
            assert_eq!(status, 200, "{action}: {body}");
        }
    }

    /// The AWS actions recorded since `start_recording`, e.g. `CreateStack`
    /// (query protocols) or `Kinesis_20131202.PutRecords` (JSON protocols).
    pub(crate) fn recorded_actions(&self) -> Vec<String> {
        use base64::Engine as _;
        let (status, body) = self.request("GET", "/moto-api/recorder/download-recording", &[], "");
        assert_eq!(status, 200, "{body}");
        body.lines()
            .filter(|line| !line.trim().is_empty())
            .filter_map(|line| {
                let entry: serde_json::Value = serde_json::from_str(line).ok()?;
                let headers = &entry["headers"];
                if let Some(target) = headers["X-Amz-Target"].as_str() {
                    return Some(target.to_string());
                }
                let raw = entry["body"].as_str().unwrap_or_default();
                let text = if entry["body_encoded"].as_bool() == Some(true) {
                    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(raw).ok()?)
                        .ok()?
                } else {
                    raw.to_string()
                };
                let query = entry["url"]
                    .as_str()
                    .unwrap_or_default()
                    .split_once('?')
                    .map(|(_, q)| q.to_string())
                    .unwrap_or_default();
                text.split('&')
                    .chain(query.split('&'))
                    .find_map(|pair| pair.strip_prefix("Action=").map(str::to_string))
                    .or_else(|| {
                        Some(format!(
                            "{} {}",
                            entry["method"].as_str()?,
                            entry["url"].as_str()?
                        ))
                    })
            })
            .collect()
    }

    /// A JSON-protocol call (Kinesis, ...), e.g. `Kinesis_20131202.ListStreams`.
    pub(crate) fn json_call(&self, service: &str, target: &str, body: &str) -> serde_json::Value {
        let (status, response) = self.json_call_raw(service, target, body);
        assert_eq!(status, 200, "{target}: {response}");
        serde_json::from_str(&response).expect("a JSON answer")
    }

    /// A JSON-protocol call that may fail: (status, body).
    pub(crate) fn json_call_raw(&self, service: &str, target: &str, body: &str) -> (u16, String) {
        let authorization = authorization(service);
        self.request(
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", target),
                ("Authorization", &authorization),
            ],
            body,
        )
    }

    /// A REST-protocol call (Lambda, ...): (status, body).
    pub(crate) fn rest_call(&self, service: &str, method: &str, path: &str) -> (u16, String) {
        self.request(
            method,
            path,
            &[("Authorization", &authorization(service))],
            "",
        )
    }

    /// Writes an S3 object as it is (e.g. a lease another run holds).
    pub(crate) fn put_object(&self, bucket: &str, key: &str, body: &str) {
        let (status, response) = self.request(
            "PUT",
            &format!("/{bucket}/{key}"),
            &[("Authorization", &authorization("s3"))],
            body,
        );
        assert_eq!(status, 200, "PUT s3://{bucket}/{key}: {response}");
    }

    /// A query-protocol call (CloudWatch, SNS, ...): the XML answer.
    pub(crate) fn query_call(&self, service: &str, body: &str) -> String {
        let (status, response) = self.request(
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &authorization(service)),
            ],
            body,
        );
        assert_eq!(status, 200, "{body}: {response}");
        response
    }
}

/// A SigV4-shaped header naming the service: moto routes by it.
fn authorization(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    )
}

/// Runs the pricewatch binary on `project` with AWS pointed at moto.
pub(crate) fn pricewatch_on(project: &Path, moto: &Moto, args: &[&str]) -> std::process::Output {
    pricewatch_command(project, moto, args)
        .output()
        .expect("run pricewatch")
}

/// The pricewatch command `pricewatch_on` runs, to add to before running.
pub(crate) fn pricewatch_command(project: &Path, moto: &Moto, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pricewatch"));
    command
        .arg("--project-dir")
        .arg(project)
        .args(args)
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env_remove("PRICEWATCH_ENV")
        .env_remove("AWS_PROFILE");
    command
}

/// Runs pricewatch on `project` with AWS on moto and the warehouse on `pg`.
pub(crate) fn pricewatch_with_warehouse(
    project: &Path,
    moto: &Moto,
    pg: &Postgres,
    args: &[&str],
) -> std::process::Output {
    pricewatch_command(project, moto, args)
        .env("PRICEWATCH_DATABASE_URL", pg.url())
        .output()
        .expect("run pricewatch")
}

/// Asserts the run succeeded; its stdout as JSON (Null when not JSON).
pub(crate) fn succeeded(out: std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// Writes generated product_data.html and vendor_data.html into `dir`.
pub(crate) fn write_pages(dir: &Path, spec: &pricewatch_core::ingest::fixtures::PageSpec) {
    use pricewatch_core::ingest::fixtures::{product_page, vendor_page};
    std::fs::write(dir.join("product_data.html"), product_page(spec)).expect("write products page");
    std::fs::write(dir.join("vendor_data.html"), vendor_page(spec)).expect("write vendors page");
}

/// Stand-in Lambda artifacts: moto stores Lambda code but never runs it.
pub(crate) fn placeholder_artifacts() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["ingest-lambda", "operator-lambda"] {
        let lambda = dir.path().join(name);
        std::fs::create_dir_all(&lambda).expect("create dir");
        std::fs::write(lambda.join("bootstrap"), b"#!/bin/sh\n").expect("write bootstrap");
    }
    dir
}

/// Deploys env `local` of this project to moto.
pub(crate) fn deploy_local(moto: &Moto) {
    deploy_project(&project_dir(), moto);
}

/// Deploys env `local` of `project` (e.g. a [`project_copy`]) to moto.
pub(crate) fn deploy_project(project: &Path, moto: &Moto) {
    let artifacts = placeholder_artifacts();
    let args = [
        "--env",
        "local",
        "deploy",
        "--yes",
        "--artifacts",
        artifacts.path().to_str().unwrap(),
    ];
    let out = pricewatch_on(project, moto, &args);
    assert!(
        out.status.success(),
        "deploy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Loads and renders an env of this project.
pub(crate) fn bundle(env: &str) -> pricewatch_core::bundle::Bundle {
    let dir = project_dir();
    let env = pricewatch_core::config::Environments::new(&dir)
        .load(env)
        .expect("env loads");
    pricewatch_core::bundle::load(Path::new(&dir), &env).expect("env renders")
}

/// Serves the files of a directory over HTTP on a free loopback port.
pub(crate) struct PageServer {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PageServer {
    pub(crate) fn start(dir: &Path) -> PageServer {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (dir, stopping) = (dir.to_path_buf(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let mut request_line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // Drain the headers.
                let mut line = String::new();
                while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                    line.clear();
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .trim_start_matches('/')
                    .to_string();
                let response = match std::fs::read(dir.join(&path)) {
                    Ok(body) => {
                        let mut r = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
                        r.extend(body);
                        r
                    }
                    Err(_) => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&response);
            }
        });
        PageServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// `--env local ingest` from this server's two pages; pass it as
    /// `&server.ingest_args().each_ref().map(String::as_str)`.
    pub(crate) fn ingest_args(&self) -> [String; 7] {
        [
            "--env".into(),
            "local".into(),
            "ingest".into(),
            "--products".into(),
            self.url("product_data.html"),
            "--vendors".into(),
            self.url("vendor_data.html"),
        ]
    }

    pub(crate) fn url(&self, file: &str) -> String {
        format!("http://127.0.0.1:{}/{file}", self.port)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Moto {
    /// Every record in a stream, from the start of each shard.
    pub(crate) fn stream_records(&self, stream: &str) -> Vec<serde_json::Value> {
        use base64::Engine as _;
        let shards = self.json_call(
            "kinesis",
            "Kinesis_20131202.ListShards",
            &serde_json::json!({"StreamName": stream}).to_string(),
        );
        let mut records = Vec::new();
        for shard in shards["Shards"].as_array().into_iter().flatten() {
            let shard_id = shard["ShardId"].as_str().unwrap();
            let iterator = self.json_call(
                "kinesis",
                "Kinesis_20131202.GetShardIterator",
                &serde_json::json!({"StreamName": stream, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}).to_string(),
            );
            let mut next = iterator["ShardIterator"].as_str().map(str::to_string);
            while let Some(it) = next.take() {
                let page = self.json_call(
                    "kinesis",
                    "Kinesis_20131202.GetRecords",
                    &serde_json::json!({"ShardIterator": it, "Limit": 10000}).to_string(),
                );
                let batch = page["Records"].as_array().cloned().unwrap_or_default();
                if batch.is_empty() {
                    break;
                }
                for record in batch {
                    let data = base64::engine::general_purpose::STANDARD
                        .decode(record["Data"].as_str().unwrap())
                        .unwrap();
                    let mut payload: serde_json::Value =
                        serde_json::from_slice(&data).expect("records are JSON");
                    payload["_partition_key"] = record["PartitionKey"].clone();
                    records.push(payload);
                }
                next = page["NextShardIterator"].as_str().map(str::to_string);
            }
        }
        records
    }
}

/// Runs a Lambda binary under a minimal Runtime API on loopback for one
/// scheduled-event invocation: (answer path, answer body, the binary's stdout).
pub(crate) fn invoke_lambda(binary: &str, env: &[(&str, String)]) -> (String, String, String) {
    use std::io::{BufRead, BufReader, Read, Write};

    let api = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = api.local_addr().unwrap().port();
    let mut child = Command::new(binary)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "pricewatch-local-lambda")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "/aws/lambda/pricewatch-local-lambda",
        )
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Lambda binary");
    let deadline_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 120_000;
    let mut answer = None;
    for stream in api.incoming().take(2) {
        let mut stream = stream.unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut content_length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header.trim().is_empty() {
                break;
            }
            if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                content_length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body).unwrap();
        let path = request_line.split_whitespace().nth(1).unwrap().to_string();
        if path.ends_with("/invocation/next") {
            let event = r#"{"source":"aws.events","detail-type":"Scheduled Event"}"#;
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: req-1\r\nLambda-Runtime-Deadline-Ms: {deadline_ms}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:pricewatch-local-lambda\r\nLambda-Runtime-Trace-Id: Root=1-0-0\r\nContent-Length: {}\r\n\r\n{event}",
                event.len()
            )
            .unwrap();
        } else {
            write!(
                stream,
                "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{{}}"
            )
            .unwrap();
            answer = Some((path, String::from_utf8_lossy(&body).to_string()));
        }
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let (path, body) = answer.expect("the runtime answered the invocation");
    (
        path,
        body,
        String::from_utf8_lossy(&output.stdout).to_string(),
    )
}

/// The local env ready for data: moto and PostgreSQL running, the stacks
/// deployed, the models applied, and vendor pages served from a temp dir.
pub(crate) struct LocalEnv {
    pub moto: Moto,
    pub pg: Postgres,
    pub pages: tempfile::TempDir,
    pub server: PageServer,
}

impl LocalEnv {
    pub(crate) fn start() -> LocalEnv {
        let moto = Moto::start();
        let pg = Postgres::start();
        deploy_local(&moto);
        let pages = tempfile::tempdir().expect("temp dir");
        let server = PageServer::start(pages.path());
        let env = LocalEnv {
            moto,
            pg,
            pages,
            server,
        };
        succeeded(env.run(&["--env", "local", "sql", "apply"]));
        env
    }

    /// pricewatch on this project with AWS on moto and the warehouse on PostgreSQL.
    pub(crate) fn run(&self, args: &[&str]) -> std::process::Output {
        pricewatch_with_warehouse(&project_dir(), &self.moto, &self.pg, args)
    }

    /// Serves the pages of `spec` and runs `ingest` on them (must succeed).
    pub(crate) fn ingest(
        &self,
        spec: &pricewatch_core::ingest::fixtures::PageSpec,
    ) -> serde_json::Value {
        write_pages(self.pages.path(), spec);
        let args = self.server.ingest_args();
        succeeded(self.run(&args.each_ref().map(String::as_str)))
    }
}
