//! The warehouse's identities, lease and stateful models on PostgreSQL,
//! which shares Redshift's rule that only a materialized view's owner may
//! refresh it. Separate login users stand for the deploy role, the operator
//! and the reader: the administrator bootstraps, a deployer applies a
//! changed model, an operator refreshes and checks, a reader reports; the
//! reader and the operator cannot drop anything. Concurrent refreshes and
//! a recreating apply take turns through the lease.

use crate::support;

use std::process::Output;

use crate::support::{Moto, PageServer, Postgres};
use pricewatch_core::ingest::fixtures::PageSpec;

struct Warehouse {
    moto: Moto,
    pg: Postgres,
    project: tempfile::TempDir,
    pages: tempfile::TempDir,
    server: PageServer,
    /// When the last page was ingested: snapshot times are whole seconds,
    /// and two snapshots in one second share their price points.
    last_ingest: std::cell::Cell<Option<std::time::Instant>>,
}

impl Warehouse {
    fn start() -> Warehouse {
        let moto = Moto::start();
        let pg = Postgres::start();
        let project = support::project_copy();
        support::deploy_project(project.path(), &moto);
        let pages = tempfile::tempdir().unwrap();
        let server = PageServer::start(pages.path());
        Warehouse {
            moto,
            pg,
            project,
            pages,
            server,
            last_ingest: std::cell::Cell::new(None),
        }
    }

    /// pricewatch as the PostgreSQL login `user`.
    fn run_as(&self, user: &str, args: &[&str]) -> Output {
        support::pricewatch_command(self.project.path(), &self.moto, args)
            .env("PRICEWATCH_DATABASE_URL", self.pg.url_as(user))
            .output()
            .expect("run pricewatch")
    }

    fn sql(&self, user: &str, sql: &str) -> Result<(), postgres::Error> {
        let mut client = postgres::Client::connect(&self.pg.url_as(user), postgres::NoTls)?;
        client.batch_execute(sql)
    }

    fn count(&self, sql: &str) -> i64 {
        self.pg
            .connect("pricewatch")
            .query_one(sql, &[])
            .unwrap()
            .get(0)
    }

    fn ingest(&self, spec: &PageSpec) {
        let apart = std::time::Duration::from_millis(1100);
        if let Some(elapsed) = self.last_ingest.get().map(|at| at.elapsed()) {
            std::thread::sleep(apart.saturating_sub(elapsed));
        }
        self.last_ingest.set(Some(std::time::Instant::now()));
        support::write_pages(self.pages.path(), spec);
        let args = self.server.ingest_args();
        support::succeeded(self.run_as("pricewatch", &args.each_ref().map(String::as_str)));
    }

    fn edit(&self, file: &str, edit: impl Fn(&str) -> String) {
        let path = self.project.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = edit(&text);
        assert_ne!(text, edited, "the edit changes {file}");
        std::fs::write(path, edited).unwrap();
    }

    /// The OID of a relation: it changes when the relation is recreated.
    fn oid(&self, relation: &str) -> u32 {
        self.pg
            .connect("pricewatch")
            .query_one("SELECT CAST($1::text AS regclass)::oid", &[&relation])
            .unwrap()
            .get(0)
    }
}

fn ok(out: Output) -> serde_json::Value {
    support::succeeded(out)
}

fn failed(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

const DEPLOYER: &str = "ci_deploy";
const OPERATOR: &str = "oncall_operator";
const READER: &str = "dashboard_reader";

pub(crate) fn each_identity_does_exactly_its_part() {
    let w = Warehouse::start();
    // The administrator's first apply bootstraps the roles.
    let first = w.run_as("pricewatch", &["--env", "local", "sql", "apply"]);
    assert!(
        String::from_utf8_lossy(&first.stderr).contains("bootstrapping it as the administrator"),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    ok(first);
    let roles: i64 = w.count(
        "SELECT COUNT(*) FROM pg_roles WHERE rolname IN ('pricewatch_deployer', 'pricewatch_operator', 'pricewatch_reader', 'pricewatch_owner') AND NOT rolcanlogin",
    );
    assert_eq!(roles, 4);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM pg_matviews WHERE schemaname IN ('bronze', 'silver', 'gold') AND matviewowner <> 'pricewatch_owner'"),
        0,
        "every model has the one owner"
    );
    w.sql(
        "pricewatch",
        &format!(
            "CREATE ROLE {DEPLOYER} LOGIN IN ROLE pricewatch_deployer;
             CREATE ROLE {OPERATOR} LOGIN IN ROLE pricewatch_operator;
             CREATE ROLE {READER} LOGIN IN ROLE pricewatch_reader;"
        ),
    )
    .unwrap();

    w.ingest(&PageSpec::default());
    ok(w.run_as(OPERATOR, &["--env", "local", "refresh"]));

    // A deployer applies a changed gold model; an operator refreshes it.
    w.edit("sql/gold/hourly_prices.sql", |t| {
        t.replace(
            "COUNT(*) AS observations",
            "COUNT(*) AS observations, MAX(sale_price) - MIN(sale_price) AS spread",
        )
    });
    let applied = ok(w.run_as(
        DEPLOYER,
        &["--env", "local", "--output", "json", "sql", "apply"],
    ));
    assert_eq!(
        applied["plan"]["create"][0], "gold.hourly_prices",
        "{applied}"
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM pg_matviews WHERE matviewowner <> 'pricewatch_owner' AND schemaname IN ('bronze', 'silver', 'gold')"),
        0,
        "the deployer's models are the owner's too"
    );
    w.ingest(&PageSpec {
        variant: 1,
        ..PageSpec::default()
    });
    let refreshed = ok(w.run_as(OPERATOR, &["--env", "local", "--output", "json", "refresh"]));
    assert!(
        refreshed["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] == "refreshed"),
        "{refreshed}"
    );
    assert!(w.count("SELECT COUNT(*) FROM gold.hourly_prices WHERE spread IS NOT NULL") > 0);
    ok(w.run_as(OPERATOR, &["--env", "local", "check", "--no-publish"]));
    ok(w.run_as(OPERATOR, &["--env", "local", "check"]));

    // A reader reports and writes the catalog.
    let site = tempfile::tempdir().unwrap();
    let out = site.path().join("site");
    ok(w.run_as(
        READER,
        &["--env", "local", "report", "--out", out.to_str().unwrap()],
    ));
    assert!(out.join("index.html").exists());
    // The catalog reads row counts and check results: the reader may too.
    let catalog = site.path().join("catalog");
    ok(w.run_as(
        READER,
        &["--env", "local", "docs", "--out", catalog.to_str().unwrap()],
    ));
    assert!(catalog.join("catalog.html").exists());

    // Neither the reader nor the operator can drop, change or refresh directly.
    for user in [READER, OPERATOR] {
        for sql in [
            "DROP MATERIALIZED VIEW gold.price_anomalies",
            "DROP TABLE pricewatch_meta.applied_models",
            "REFRESH MATERIALIZED VIEW gold.price_anomalies",
            "DELETE FROM pricewatch_meta.applied_models",
        ] {
            let error = w
                .sql(user, sql)
                .expect_err(&format!("{user} may not {sql}"));
            let code = error.as_db_error().map(|e| e.code().code().to_string());
            assert_eq!(code.as_deref(), Some("42501"), "{user}: {sql}: {error}");
        }
    }
    // The reader sees no raw records; nobody but the owner applies models.
    assert!(w
        .sql(READER, "SELECT 1 FROM bronze.products LIMIT 1")
        .is_err());
    let refused = w.run_as(OPERATOR, &["--env", "local", "sql", "apply"]);
    assert!(
        failed(&refused).contains("cannot apply models"),
        "{refused:?}"
    );
    let refused = w.run_as(READER, &["--env", "local", "refresh"]);
    assert!(!refused.status.success(), "a reader cannot refresh");

    // A changed bootstrap needs the administrator again; a deployer is told so.
    w.edit("sql/bootstrap.sql", |t| {
        format!("{t}-- a new bootstrap step\nSELECT 1;\n")
    });
    let stale = w.run_as(DEPLOYER, &["--env", "local", "sql", "apply"]);
    assert!(failed(&stale).contains("sql apply --env local --bootstrap"));
    ok(w.run_as("pricewatch", &["--env", "local", "sql", "apply"]));
    ok(w.run_as(DEPLOYER, &["--env", "local", "sql", "apply"]));
}

pub(crate) fn stream_models_keep_their_history_unless_replacing_them_is_allowed() {
    let w = Warehouse::start();
    ok(w.run_as("pricewatch", &["--env", "local", "sql", "apply"]));
    w.ingest(&PageSpec::default());
    ok(w.run_as("pricewatch", &["--env", "local", "refresh"]));
    let rows = w.count("SELECT COUNT(*) FROM bronze.products");
    let bronze = w.oid("bronze.products");
    let silver = w.oid("silver.products");

    // A new description: a comment, the same objects.
    w.edit("sql/bronze/products.sql", |t| {
        t.replace("Raw products records", "Every raw products record")
    });
    let plan = ok(w.run_as(
        "pricewatch",
        &[
            "--env",
            "local",
            "--output",
            "json",
            "sql",
            "apply",
            "--dry-run",
        ],
    ));
    assert_eq!(plan["plan"]["commented"][0], "bronze.products", "{plan}");
    ok(w.run_as("pricewatch", &["--env", "local", "sql", "apply"]));
    assert_eq!(w.oid("bronze.products"), bronze);
    assert_eq!(w.oid("silver.products"), silver);
    let comment: Option<String> =
        w.pg.connect("pricewatch")
            .query_one(
                "SELECT obj_description(CAST('bronze.products' AS regclass))",
                &[],
            )
            .unwrap()
            .get(0);
    assert!(comment.unwrap().starts_with("Every raw products record"));

    // A real change: refused, named, nothing dropped — in the dry run too.
    w.edit("sql/bronze/products.sql", |t| {
        t.replace(
            "    shard_id,\n",
            "    shard_id,\n    sequence_number AS record_sequence,\n",
        )
    });
    let dry = w.run_as(
        "pricewatch",
        &["--env", "local", "sql", "apply", "--dry-run"],
    );
    let text = String::from_utf8_lossy(&dry.stdout).to_string();
    assert_eq!(dry.status.code(), Some(1), "{text}");
    assert!(
        text.contains("replace-stateful   bronze.products"),
        "{text}"
    );
    let refused = w.run_as("pricewatch", &["--env", "local", "sql", "apply"]);
    let message = failed(&refused);
    assert!(message.contains("bronze.products"), "{message}");
    assert!(
        message.contains("--allow-replace bronze.products"),
        "{message}"
    );
    assert!(message.contains("24 h"), "names the retention: {message}");
    assert_eq!(w.oid("bronze.products"), bronze, "nothing was dropped");
    assert_eq!(w.count("SELECT COUNT(*) FROM bronze.products"), rows);

    // Allowed: replaced, with its downstream.
    let applied = ok(w.run_as(
        "pricewatch",
        &[
            "--env",
            "local",
            "--output",
            "json",
            "sql",
            "apply",
            "--allow-replace",
            "bronze.products",
        ],
    ));
    assert_eq!(applied["plan"]["create"][0], "bronze.products");
    assert_ne!(w.oid("bronze.products"), bronze);
    // An --allow-replace of no model is a usage error.
    let usage = w.run_as(
        "pricewatch",
        &[
            "--env",
            "local",
            "sql",
            "apply",
            "--allow-replace",
            "bronze.nope",
        ],
    );
    assert_eq!(usage.status.code(), Some(2));
}

pub(crate) fn concurrent_runs_take_turns_through_the_lease() {
    let w = Warehouse::start();
    ok(w.run_as("pricewatch", &["--env", "local", "sql", "apply"]));
    w.ingest(&PageSpec::default());
    ok(w.run_as("pricewatch", &["--env", "local", "refresh"]));
    // A change that recreates silver and gold.
    w.edit("sql/silver/products.sql", |t| {
        t.replace(
            "WHERE reason IS NULL",
            "WHERE reason IS NULL AND item IS NOT NULL",
        )
    });
    w.ingest(&PageSpec {
        variant: 1,
        ..PageSpec::default()
    });
    let spawn = |args: &[&str]| {
        support::pricewatch_command(w.project.path(), &w.moto, args)
            .env("PRICEWATCH_DATABASE_URL", w.pg.url())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let runs = [
        spawn(&["--env", "local", "refresh", "--wait", "3m"]),
        spawn(&["--env", "local", "sql", "apply", "--wait", "3m"]),
        spawn(&["--env", "local", "refresh", "--wait", "3m"]),
    ];
    let mut waited = 0;
    for run in runs {
        let out = run.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        waited += usize::from(stderr.contains("waiting up to"));
    }
    assert!(waited >= 1, "at least one run waited for another's lease");
    assert_eq!(
        w.count("SELECT COUNT(*) FROM pricewatch_meta.lease"),
        0,
        "every lease released"
    );
    // Afterwards the figures are those of a refresh on a quiet warehouse:
    // whatever order the three ran in, silver and gold as they left them
    // equal what one more refresh, alone, computes.
    let figures = || -> Vec<Vec<String>> {
        let mut db = w.pg.connect("pricewatch");
        [
            "silver.products",
            "silver.vendors",
            "silver.quarantine",
            "gold.hourly_prices",
            "gold.price_evolution",
            "gold.item_price_range",
            "gold.vendor_stock_status",
        ]
        .iter()
        .map(|relation| {
            db.query(
                &format!("SELECT CAST(t AS TEXT) FROM {relation} AS t ORDER BY 1"),
                &[],
            )
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect()
        })
        .collect()
    };
    let concurrent = figures();
    assert!(
        concurrent.iter().all(|rows| !rows.is_empty()),
        "every model has rows"
    );
    ok(w.run_as("pricewatch", &["--env", "local", "refresh"]));
    assert_eq!(
        figures(),
        concurrent,
        "the concurrent runs left correct figures"
    );
    let silver = w.count("SELECT COUNT(*) FROM silver.products");
    let valid = w.count("SELECT COUNT(*) FROM (SELECT DISTINCT item, category, vendor, sale_price, stock_status, snapshot_id, observed_at FROM silver.products_validated WHERE reason IS NULL AND item IS NOT NULL) AS v");
    assert_eq!(silver, valid);
    assert_eq!(
        w.count("SELECT COUNT(DISTINCT snapshot_id) FROM silver.products"),
        2,
        "both snapshots reached silver"
    );

    // A held lease: a second run waits, then names the holder and exits 1.
    w.sql(
        "pricewatch",
        "INSERT INTO pricewatch_meta.lease VALUES ('warehouse', 'someone@elsewhere pid 1', 'sql apply', CAST(NOW() AT TIME ZONE 'UTC' AS TIMESTAMP), CAST(NOW() AT TIME ZONE 'UTC' AS TIMESTAMP) + INTERVAL '1 hour')",
    )
    .unwrap();
    let busy = w.run_as("pricewatch", &["--env", "local", "refresh", "--wait", "2s"]);
    let message = failed(&busy);
    assert!(message.contains("someone@elsewhere pid 1"), "{message}");
    assert!(message.contains("`sql apply`"), "{message}");
    let status = ok(w.run_as(
        "pricewatch",
        &["--env", "local", "--output", "json", "status"],
    ));
    assert_eq!(
        status["lease"]["holder"], "someone@elsewhere pid 1",
        "{status}"
    );
    // An expired lease (a crashed run's) is taken over.
    w.sql(
        "pricewatch",
        "UPDATE pricewatch_meta.lease SET expires_at = CAST(NOW() AT TIME ZONE 'UTC' AS TIMESTAMP) - INTERVAL '1 minute'",
    )
    .unwrap();
    let taken = w.run_as("pricewatch", &["--env", "local", "refresh", "--wait", "2s"]);
    assert!(
        String::from_utf8_lossy(&taken.stderr).contains("taking over the expired warehouse lease")
    );
    ok(taken);
}
