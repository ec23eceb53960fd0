//! Smoke tests of the test services: PostgreSQL runs the rendered `local`
//! SQL, and moto answers STS with its fixed account, the one `local.yaml`
//! states for the account guard.

use crate::support;

use crate::support::{bundle, Moto, Postgres};
use pricewatch_core::model::Materialization;
use pricewatch_ops::warehouse::bootstrap;

/// The administrator's bootstrap, then the owner's setup, as `sql apply` runs them.
fn set_up(client: &mut postgres::Client, bundle: &pricewatch_core::bundle::Bundle) {
    let roles = bundle.env.names().roles(bundle.env.dialect());
    let statements = bootstrap::statements(bundle, &roles, &Default::default(), None);
    for sql in statements {
        client
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("bootstrap SQL runs on PostgreSQL: {e:?}\n{sql}"));
    }
    client
        .batch_execute(&bundle.setup_sql)
        .expect("setup SQL runs on PostgreSQL");
}

pub(crate) fn postgres_accepts_every_rendered_local_model() {
    let pg = Postgres::start();
    let mut client = pg.connect("pricewatch");
    let bundle = bundle("local");
    set_up(&mut client, &bundle);
    for model in &bundle.models {
        client.batch_execute(&model.ddl).unwrap_or_else(|e| {
            panic!(
                "model {} does not run on PostgreSQL: {e:?}\n{}",
                model.name, model.ddl
            )
        });
    }
    let mut count = |sql: &str| -> usize {
        let n: i64 = client.query_one(sql, &[]).unwrap().get(0);
        n as usize
    };
    let materialized = bundle
        .models
        .iter()
        .filter(|m| m.materialized != Materialization::View)
        .count();
    assert_eq!(
        count("SELECT COUNT(*) FROM pg_matviews WHERE schemaname IN ('bronze', 'silver', 'gold')"),
        materialized
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM pg_views WHERE schemaname IN ('bronze', 'silver', 'gold')"),
        bundle.models.len() - materialized
    );
}

pub(crate) fn silver_types_and_quarantines_records_on_postgres() {
    let pg = Postgres::start();
    let mut client = pg.connect("pricewatch");
    let bundle = bundle("local");
    set_up(&mut client, &bundle);
    for model in &bundle.models {
        client.batch_execute(&model.ddl).unwrap();
    }
    let record = |seq: u32, item: &str, price: &str, status: &str| {
        format!(
            r#"{{"source":"products","snapshot_id":"20261125T010000Z-aa","fetched_at":"2026-11-25T01:00:00Z","row_number":{seq},"item":"{item}","category":"Laptops","vendor":"Acme","sale_price":"{price}","stock_status":"{status}"}}"#
        )
    };
    let records = [
        record(1, "Laptop A", "$1,299.00", "In Stock"),
        record(2, "Laptop A", "$1,299.00", "In Stock"), // exact duplicate
        record(3, "Laptop B", " 123.45 ", "out of stock"),
        record(4, "", "10", "In Stock"),            // missing item
        record(5, "Laptop C", "ten", "In Stock"),   // unparsable price
        record(6, "Laptop D", "-5.00", "In Stock"), // non-positive price
        record(7, "Laptop E", "9.99", "Backorder"), // unknown stock status
    ];
    for (i, payload) in records.iter().enumerate() {
        client
            .execute(
                "INSERT INTO pricewatch_meta.kinesis_products VALUES ('shardId-000000000000', $1, 'k', NOW(), CAST($2 AS TEXT), CAST(CAST($2 AS TEXT) AS JSONB))",
                &[&format!("{i:05}"), payload],
            )
            .unwrap();
    }
    for model in bundle
        .models
        .iter()
        .filter(|m| m.name != "bronze.vendors" && m.materialized != Materialization::View)
    {
        client
            .batch_execute(&format!("REFRESH MATERIALIZED VIEW {}", model.name))
            .unwrap();
    }
    let rows = client
        .query("SELECT item, CAST(sale_price AS TEXT), stock_status FROM silver.products ORDER BY item", &[])
        .unwrap();
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        got,
        [
            (
                "Laptop A".to_string(),
                "1299.00".to_string(),
                "in_stock".to_string()
            ),
            (
                "Laptop B".to_string(),
                "123.45".to_string(),
                "out_of_stock".to_string()
            ),
        ]
    );
    let reasons: Vec<String> = client
        .query("SELECT reason FROM silver.quarantine ORDER BY reason", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        reasons,
        [
            "duplicate",
            "missing item",
            "non-positive price",
            "unknown stock status",
            "unparsable price"
        ]
    );
}

pub(crate) fn moto_answers_sts_with_the_local_account() {
    let moto = Moto::start();
    let (status, body) = moto.request(
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0",
            ),
        ],
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert_eq!(status, 200, "{body}");
    let local = support::bundle("local").env.settings.account_id;
    assert!(
        body.contains(&format!("<Account>{local}</Account>")),
        "{body}"
    );
}
