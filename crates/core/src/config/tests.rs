use super::*;

const DEFAULTS: &str = include_str!("../../../../environments/defaults.yaml");

fn load(env_text: &str) -> Result<Environment, ConfigError> {
    load_named("dev", DEFAULTS, env_text)
}

fn load_named(name: &str, defaults: &str, env_text: &str) -> Result<Environment, ConfigError> {
    let defaults = SourceFile::from_text("environments/defaults.yaml".into(), defaults.into());
    let env = SourceFile::from_text(format!("environments/{name}.yaml").into(), env_text.into());
    load_from(name, &defaults, &env)
}

fn issues(result: Result<Environment, ConfigError>) -> Vec<ConfigIssue> {
    match result {
        Err(ConfigError::Invalid(issues)) => issues,
        other => panic!("expected invalid config, got {other:?}"),
    }
}

const MINIMAL: &str = "account_id: '111111111111'\nregion: eu-west-1\n";

#[test]
fn env_inherits_defaults_and_overrides_them() {
    let env = load("account_id: '111111111111'\nregion: eu-central-1\nstreams:\n  mode: provisioned\n  shards: 3\ntags:\n  environment: dev\n").unwrap();
    let s = &env.settings;
    assert_eq!(s.region, "eu-central-1");
    assert_eq!(s.streams.mode, StreamMode::Provisioned);
    assert_eq!(s.streams.shards, Some(3));
    // Inherited from defaults inside a merged map.
    assert_eq!(s.streams.retention_hours, 24);
    assert_eq!(
        s.tags.get("project").map(String::as_str),
        Some("pricewatch")
    );
    assert_eq!(s.tags.get("environment").map(String::as_str), Some("dev"));
    assert_eq!(s.pricing.rules.len(), 3);
}

#[test]
fn lists_replace_rather_than_append() {
    let env = load(&format!(
        "{MINIMAL}pricing:\n  rules:\n    - name: only\n      strategy: match_median\n"
    ))
    .unwrap();
    assert_eq!(env.settings.pricing.rules.len(), 1);
    assert_eq!(env.settings.pricing.anomaly_threshold, 3.5);
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let found = issues(load(&format!("{MINIMAL}streams:\n  shrads: 2\n")));
    assert_eq!(found.len(), 1, "{found:?}");
    let issue = &found[0];
    assert_eq!(issue.file, PathBuf::from("environments/dev.yaml"));
    assert_eq!(issue.line, Some(4));
    assert_eq!(issue.key, "streams.shrads");
    assert!(
        issue.message.contains("unknown key `shrads`"),
        "{}",
        issue.message
    );
    assert!(issue
        .to_string()
        .starts_with("environments/dev.yaml:4: streams.shrads:"));
}

#[test]
fn several_schema_errors_are_reported_together() {
    let found = issues(load(&format!(
        "{MINIMAL}streams:\n  shrads: 2\n  retention_hours: lots\ningest:\n  memory_mb: -5\nbogus: 1\n"
    )));
    let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    assert!(keys.contains(&"streams.shrads"), "{keys:?}");
    assert!(keys.contains(&"streams.retention_hours"), "{keys:?}");
    assert!(keys.contains(&"ingest.memory_mb"), "{keys:?}");
    assert!(keys.contains(&"bogus"), "{keys:?}");
    // Removing a mistyped key must not add a spurious "missing" error.
    assert!(
        !found.iter().any(|i| i.message.contains("missing")),
        "{found:?}"
    );
}

#[test]
fn wrong_type_names_the_line() {
    let found = issues(load(&format!("{MINIMAL}refresh:\n  parallelism: many\n")));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].key, "refresh.parallelism");
    assert_eq!(found[0].line, Some(4));
}

#[test]
fn semantic_errors_are_all_reported_with_lines() {
    let found = issues(load(
        "account_id: '12345'\nregion: Europe\nstreams:\n  mode: provisioned\ningest:\n  schedule: every minute\n  log_retention_days: 10\nwarehouse:\n  base_capacity_rpu: 0\n",
    ));
    let by_key = |key: &str| {
        found
            .iter()
            .find(|i| i.key == key)
            .unwrap_or_else(|| panic!("no issue for {key}: {found:?}"))
    };
    assert_eq!(by_key("account_id").line, Some(1));
    assert_eq!(by_key("region").line, Some(2));
    // Missing in the file: points at the parent key that is written.
    assert_eq!(by_key("streams.shards").line, Some(3));
    assert_eq!(by_key("ingest.schedule").line, Some(6));
    assert_eq!(by_key("ingest.log_retention_days").line, Some(7));
    assert_eq!(by_key("warehouse.base_capacity_rpu").line, Some(9));
}

#[test]
fn errors_inherited_from_defaults_blame_defaults() {
    let defaults = DEFAULTS.replace("retention_hours: 24", "retention_hours: 2");
    let found = issues(load_named("dev", &defaults, MINIMAL));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].file, PathBuf::from("environments/defaults.yaml"));
    assert_eq!(found[0].key, "streams.retention_hours");
    assert!(found[0].line.is_some());
}

#[test]
fn yaml_syntax_error_names_the_line() {
    let found = issues(load("account_id: '1'\nregion: [eu-west-1\nstreams: {}\n"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].message.starts_with("YAML syntax error"),
        "{found:?}"
    );
    assert!(found[0].line.is_some());
}

#[test]
fn empty_file_is_an_error() {
    let found = issues(load(""));
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("empty"));
    let found = issues(load("# only a comment\n"));
    assert!(found[0].message.contains("empty"));
}

#[test]
fn account_and_region_must_be_in_the_env_file() {
    let found = issues(load("tags:\n  environment: dev\n"));
    let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["account_id", "region"]);
}

#[test]
fn missing_required_section_is_named() {
    let defaults = DEFAULTS.replace(
        "refresh:\n  schedule: rate(15 minutes)\n  parallelism: 4\n",
        "",
    );
    let found = issues(load_named("dev", &defaults, MINIMAL));
    assert_eq!(found[0].key, "refresh", "{found:?}");
    assert!(found[0].message.contains("missing"));
}

#[test]
fn access_keys_and_passwords_are_refused() {
    let found = issues(load(&format!(
        "{MINIMAL}tags:\n  leaked: AKIAIOSFODNN7EXAMPLE\nwarehouse:\n  engine: postgres\n  postgres_url: postgres://u:hunter2@db/pricewatch\n"
    )));
    let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    assert!(keys.contains(&"tags.leaked"), "{keys:?}");
    assert!(keys.contains(&"warehouse.postgres_url"), "{keys:?}");
}

#[test]
fn bad_env_name_is_reported() {
    let found = issues(load_named("Bad_Name", DEFAULTS, MINIMAL));
    assert!(found[0].message.contains("env name"), "{found:?}");
}

#[test]
fn pricing_rules_are_checked() {
    let found = issues(load(&format!(
        "{MINIMAL}pricing:\n  rules:\n    - name: a\n      strategy: match_median\n      floor: 10\n      ceiling: 5\n    - name: a\n      strategy: undercut_lowest\n      percent: 150\n"
    )));
    let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    assert!(keys.contains(&"pricing.rules[0].floor"), "{keys:?}");
    assert!(keys.contains(&"pricing.rules[1].name"), "{keys:?}");
    assert!(keys.contains(&"pricing.rules[1].percent"), "{keys:?}");
    let line = found
        .iter()
        .find(|i| i.key == "pricing.rules[1].percent")
        .unwrap()
        .line;
    assert_eq!(line, Some(11));
}

#[test]
fn shipped_environments_load() {
    let envs = Environments::new(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    let names = envs.list().unwrap();
    assert_eq!(names, ["dev", "local", "prod", "test"]);
    for name in names {
        let env = envs.load(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(env.name, name);
    }
}

/// Env files whose resource names nest (`pricewatch-prod` and
/// `pricewatch-prod-eu`, through the env name or a stack_prefix of its
/// own) are both refused, naming the file; an env named like an on-call
/// twin is refused; the others still load.
#[test]
fn an_env_inside_another_envs_names_is_refused() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let prod = std::fs::read_to_string(root.join("environments/prod.yaml")).unwrap();
    let project = |files: &[(&str, String)]| {
        let dir = tempfile::tempdir().unwrap();
        let envs_dir = dir.path().join("environments");
        std::fs::create_dir(&envs_dir).unwrap();
        std::fs::copy(
            root.join("environments/defaults.yaml"),
            envs_dir.join("defaults.yaml"),
        )
        .unwrap();
        for (name, text) in files {
            std::fs::write(envs_dir.join(format!("{name}.yaml")), text).unwrap();
        }
        dir
    };
    let refused = |envs: &Environments, name: &str| {
        let ConfigError::Invalid(found) = envs.load(name).unwrap_err() else {
            panic!("{name}: not a config issue");
        };
        assert_eq!(
            found[0].file,
            Path::new("environments").join(format!("{name}.yaml")),
            "{found:?}"
        );
        found[0].message.clone()
    };
    let twins = project(&[
        ("prod", prod.clone()),
        ("qa-operate", prod.clone()),
        ("test", prod.clone()),
    ]);
    let envs = Environments::new(twins.path());
    envs.load("prod").unwrap_or_else(|e| panic!("prod: {e}"));
    envs.load("test").unwrap_or_else(|e| panic!("test: {e}"));
    assert!(refused(&envs, "qa-operate").contains("ends in `-operate`"));

    let nested = project(&[
        ("prod", prod.clone()),
        ("eu", format!("{prod}\nstack_prefix: pricewatch-prod\n")),
        ("prod-us", prod.clone()),
    ]);
    let envs = Environments::new(nested.path());
    for name in ["eu", "prod", "prod-us"] {
        let message = refused(&envs, name);
        assert!(message.contains("`pricewatch-prod-*`"), "{name}: {message}");
    }
}

#[test]
fn deployed_environments_ingest_the_case_study_pages_and_local_its_own() {
    let envs = Environments::new(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    let site = "https://temus-northstar.github.io/data_engineering_case_study_public";
    for name in ["dev", "test", "prod"] {
        let s = envs.load(name).unwrap().settings;
        assert_eq!(
            s.sources["products"].url,
            format!("{site}/product_data.html")
        );
        assert_eq!(s.sources["vendors"].url, format!("{site}/vendor_data.html"));
        assert_eq!(
            s.warehouse.allowed_categories,
            ["Electronics", "Accessories", "Office Supplies"],
            "{name}: the case study's categories"
        );
        assert_eq!(s.warehouse.hour_bucket, HourBucket::Floor);
    }
    let local = envs.load("local").unwrap().settings;
    assert!(local.sources["products"]
        .url
        .starts_with("http://127.0.0.1:"));
    assert!(local
        .warehouse
        .allowed_categories
        .iter()
        .any(|c| c == "Laptops"));
}

#[test]
fn anomaly_settings_and_the_hour_bucket_are_checked() {
    let found = issues(load(&format!(
        "{MINIMAL}pricing:\n  anomaly_min_spread_pct: 0\n  anomaly_min_move_pct: -1\nwarehouse:\n  hour_bucket: round\n"
    )));
    let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    assert!(keys.contains(&"warehouse.hour_bucket"), "{keys:?}");
    let found = issues(load(&format!(
        "{MINIMAL}pricing:\n  anomaly_min_spread_pct: 0\n  anomaly_min_move_pct: -1\n"
    )));
    let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "pricing.anomaly_min_spread_pct",
            "pricing.anomaly_min_move_pct"
        ]
    );
    let nearest = load(&format!("{MINIMAL}warehouse:\n  hour_bucket: nearest\n")).unwrap();
    assert_eq!(nearest.settings.warehouse.hour_bucket, HourBucket::Nearest);
}

#[test]
fn unknown_env_lists_the_existing_ones() {
    let envs = Environments::new(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    let err = envs.load("nosuchenv").unwrap_err();
    assert!(err.is_usage());
    let text = err.to_string();
    assert!(
        text.contains("nosuchenv") && text.contains("dev, local, prod, test"),
        "{text}"
    );
}

#[test]
fn schema_and_rule_problems_come_together_without_placeholder_noise() {
    let found = issues(load(&format!(
        "{MINIMAL}streams:\n  shrads: 3\nrefresh:\n  parallelism: lots\ningest:\n  schedule: every minute\n"
    )));
    let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        ["streams.shrads", "refresh.parallelism", "ingest.schedule"],
        "{found:?}"
    );
}

#[test]
fn the_warehouse_network_is_three_subnets_and_a_group_or_nothing() {
    let found = issues(load(&format!(
        "{MINIMAL}warehouse:\n  subnet_ids:\n    - subnet-0a1b2c3d\n"
    )));
    let mut keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["warehouse.security_group_ids", "warehouse.subnet_ids"],
        "{found:?}"
    );
    assert!(found.iter().any(|i| i.message.contains("at least 3")));
    let env = load(&format!(
        "{MINIMAL}warehouse:\n  subnet_ids: [subnet-0a1b2c3d, subnet-0a1b2c3e, subnet-0a1b2c3f]\n  security_group_ids: [sg-0a1b2c3d]\nquicksight:\n  owners: [arn:aws:quicksight:eu-west-1:111111111111:user/default/ops]\n"
    ))
    .unwrap();
    assert_eq!(env.settings.warehouse.subnet_ids.len(), 3);
    let found = issues(load(&format!("{MINIMAL}quicksight:\n  owners: [ops]\n")));
    assert_eq!(found[0].key, "quicksight.owners[0]", "{found:?}");
}

/// YAML documents built from pricewatch's own keys and random scalars, so
/// the loader sees plausible shapes with wrong types, depths and values.
fn yaml_documents() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let key = prop_oneof![
        prop::sample::select(vec![
            "account_id",
            "region",
            "stack_prefix",
            "tags",
            "streams",
            "mode",
            "shards",
            "retention_hours",
            "ingest",
            "schedule",
            "warehouse",
            "engine",
            "subnet_ids",
            "security_group_ids",
            "postgres_url",
            "pricing",
            "rules",
            "name",
            "strategy",
            "percent",
            "floor",
            "quicksight",
            "principals",
            "owners",
            "import_mode",
            "alarms",
            "deploy",
            "parallelism",
            "aws",
            "endpoint_url",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,12}",
    ];
    let scalar = prop_oneof![
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>().prop_map(|f| Value::Number(f.into())),
        any::<bool>().prop_map(Value::Bool),
        "\\PC{0,30}".prop_map(Value::String),
        Just(Value::Null),
    ];
    scalar
        .prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Sequence),
                prop::collection::vec((key.clone(), inner), 0..8).prop_map(|pairs| {
                    Value::Mapping(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (Value::String(k), v))
                            .collect(),
                    )
                }),
            ]
        })
        .prop_map(|value| serde_yaml_ng::to_string(&value).unwrap_or_default())
}

#[test]
fn fuzz_the_config_loader_returns_errors_never_panics() {
    use proptest::prelude::*;
    let prod = include_str!("../../../../environments/prod.yaml").to_string();
    let inputs = prop_oneof![
        crate::fuzz::mutations(prod).prop_map(|env| (DEFAULTS.to_string(), env)),
        crate::fuzz::mutations(DEFAULTS.to_string()).prop_map(|d| (d, MINIMAL.to_string())),
        yaml_documents().prop_map(|env| (DEFAULTS.to_string(), env)),
        "\\PC{0,300}".prop_map(|env| (DEFAULTS.to_string(), env)),
    ];
    crate::fuzz::run(inputs, |(defaults, env)| {
        // Either outcome is fine; an error must render as a message.
        if let Err(e) = load_named("dev", defaults, env) {
            assert!(!e.to_string().is_empty());
        }
    });
}

#[test]
fn the_cloudformation_role_must_be_a_role_of_the_env_account() {
    let ok = load(&format!(
        "{MINIMAL}deploy:\n  cloudformation_role_arn: arn:aws:iam::111111111111:role/pricewatch-dev-cloudformation\n"
    ))
    .unwrap();
    assert!(ok.settings.deploy.cloudformation_role_arn.is_some());
    for wrong in [
        "arn:aws:iam::222222222222:role/x",
        "arn:aws:iam::111111111111:user/x",
        "pricewatch-dev-cloudformation",
    ] {
        let found = issues(load(&format!(
            "{MINIMAL}deploy:\n  cloudformation_role_arn: {wrong}\n"
        )));
        assert_eq!(found[0].key, "deploy.cloudformation_role_arn", "{wrong}");
        assert!(
            found[0].message.contains("111111111111"),
            "{}",
            found[0].message
        );
    }
}

#[test]
fn alarm_subscriptions_are_per_severity_and_validated() {
    let ok = load(&format!(
        "{MINIMAL}alarms:\n  page:\n    email: [oncall@example.com]\n    https: [https://events.example.com/sns]\n    chatbot:\n      - {{workspace_id: T0123ABCD, channel_id: C0456EFGH}}\n  ticket:\n    email: [tickets@example.com]\n"
    ))
    .unwrap();
    let alarms = &ok.settings.alarms;
    assert_eq!(alarms.page.https, ["https://events.example.com/sns"]);
    assert_eq!(alarms.page.chatbot[0].channel_id, "C0456EFGH");
    assert_eq!(alarms.ticket.email, ["tickets@example.com"]);
    assert!(alarms.ticket.chatbot.is_empty());
    // Inherited from defaults.
    assert_eq!(alarms.evaluation_periods, 3);

    let found = issues(load(&format!(
        "{MINIMAL}alarms:\n  page:\n    email: [nobody, a@b.example, a@b.example]\n    https: [http://plain.example.com/x, 'https://user:pw@hooks.example.com/x']\n    chatbot:\n      - {{workspace_id: slack, channel_id: C0456EFGH}}\n"
    )));
    let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "alarms.page.email[0]",
            "alarms.page.email[2]",
            "alarms.page.https[0]",
            "alarms.page.https[1]",
            "alarms.page.chatbot[0].workspace_id",
        ],
        "{found:?}"
    );
    assert!(found[3].message.contains("must not contain credentials"));

    // The old single list is gone: a typo-proof error, not a silent no-op.
    let found = issues(load(&format!("{MINIMAL}alarms:\n  email: [a@b.example]\n")));
    assert_eq!(found[0].key, "alarms.email", "{found:?}");
}

#[test]
fn the_archive_lifecycle_is_one_s3_accepts_and_backfill_can_read() {
    let env = load(MINIMAL).unwrap();
    assert_eq!(env.settings.archive.transition_days, Some(90));
    assert_eq!(
        env.settings.archive.storage_class,
        ArchiveStorageClass::GlacierIr
    );
    assert_eq!(env.settings.archive.expire_days, None, "kept by default");
    let off = load(&format!(
        "{MINIMAL}archive:\n  transition_days: null\n  expire_days: 30\n"
    ))
    .unwrap();
    assert_eq!(
        (
            off.settings.archive.transition_days,
            off.settings.archive.expire_days
        ),
        (None, Some(30))
    );

    let found = issues(load(&format!(
        "{MINIMAL}archive:\n  transition_days: 90\n  expire_days: 60\n"
    )));
    assert_eq!(found[0].key, "archive.expire_days", "{found:?}");
    assert!(found[0]
        .message
        .contains("must be greater than archive.transition_days (90)"));
    let found = issues(load(&format!(
        "{MINIMAL}archive:\n  transition_days: 7\n  storage_class: STANDARD_IA\n"
    )));
    assert!(
        found[0].message.contains("after 30 days at the earliest"),
        "{found:?}"
    );
    let found = issues(load(&format!(
        "{MINIMAL}archive:\n  storage_class: DEEP_ARCHIVE\n"
    )));
    assert_eq!(found[0].key, "archive.storage_class", "{found:?}");
    assert!(
        found[0].message.contains("GLACIER_IR"),
        "{}",
        found[0].message
    );
}

#[test]
fn each_source_stream_may_have_its_own_capacity() {
    let env = load(&format!(
        "{MINIMAL}streams:\n  mode: provisioned\n  shards: 2\n  sources:\n    vendors:\n      mode: on_demand\n"
    ))
    .unwrap();
    let streams = &env.settings.streams;
    assert_eq!(
        streams.capacity("products"),
        StreamCapacity {
            mode: StreamMode::Provisioned,
            shards: Some(2)
        }
    );
    assert_eq!(
        streams.capacity("vendors"),
        StreamCapacity {
            mode: StreamMode::OnDemand,
            shards: None
        },
        "an on-demand source drops the env's shard count"
    );
    let env = load(&format!(
        "{MINIMAL}streams:\n  sources:\n    products:\n      mode: provisioned\n      shards: 4\n"
    ))
    .unwrap();
    assert_eq!(
        env.settings.streams.capacity("products"),
        StreamCapacity {
            mode: StreamMode::Provisioned,
            shards: Some(4)
        }
    );
    assert_eq!(
        env.settings.streams.capacity("vendors").mode,
        StreamMode::OnDemand,
        "the env's default"
    );
}

#[test]
fn a_bad_source_stream_is_named_with_its_line() {
    let found = issues(load(&format!(
        "{MINIMAL}streams:\n  sources:\n    prodcts:\n      mode: provisioned\n    vendors:\n      mode: provisioned\n    products:\n      shards: 3\n"
    )));
    let by_key = |key: &str| {
        found
            .iter()
            .find(|i| i.key == key)
            .unwrap_or_else(|| panic!("no issue for {key}: {found:?}"))
    };
    let typo = by_key("streams.sources.prodcts");
    assert_eq!(typo.line, Some(5));
    assert!(
        typo.message.contains("the sources are products, vendors"),
        "{typo:?}"
    );
    // Provisioned without a shard count anywhere: points at the source.
    assert!(by_key("streams.sources.vendors.shards")
        .message
        .contains("is required"));
    assert_eq!(by_key("streams.sources.vendors.shards").line, Some(7));
    // Shards on a stream the env keeps on-demand.
    assert_eq!(by_key("streams.sources.products.shards").line, Some(10));
}

#[test]
fn sources_are_declared_in_order_and_env_files_override_or_disable_them() {
    let env = load(&format!(
        "{MINIMAL}sources:\n  legacy:\n    enabled: false\n    url: https://example.com/l.html\n    key: [item]\n    columns:\n      item: {{header: Item, type: text, required: true}}\n  products:\n    url: https://example.com/p.html\n  prices:\n    url: https://example.com/prices.html\n    key: [item, vendor]\n    columns:\n      vendor: {{header: Vendor, type: text, required: true}}\n      item: {{header: Item Name, type: text, required: true}}\n      price: {{header: Price, type: decimal}}\n"
    ))
    .unwrap();
    let s = &env.settings;
    assert_eq!(s.sources["products"].url, "https://example.com/p.html");
    assert_eq!(s.sources["products"].models, SourceModels::HandWritten);
    let prices = &s.sources["prices"];
    assert_eq!(prices.models, SourceModels::Generated);
    let columns: Vec<&str> = prices.columns.iter().map(|(n, _)| n).collect();
    assert_eq!(columns, ["vendor", "item", "price"], "declaration order");
    assert_eq!(
        prices.columns.get("price").unwrap().kind,
        ColumnType::Decimal
    );
    assert!(!prices.columns.get("price").unwrap().required);
    let enabled: Vec<&str> = s.enabled_sources().map(|(n, _)| n).collect();
    assert_eq!(enabled, ["prices", "products", "vendors"]);
    let names = env.names();
    assert_eq!(names.stream("prices"), Some("pricewatch-dev-prices"));
    assert_eq!(names.stream("legacy"), None, "disabled: no stream");
}

#[test]
fn a_source_gold_needs_stays_enabled_and_logical_ids_stay_apart() {
    let found = issues(load(&format!(
        "{MINIMAL}sources:\n  products:\n    enabled: false\n  x1:\n    url: https://example.com/a.html\n    key: [item]\n    columns:\n      item: {{header: Item, type: text, required: true}}\n  x_1:\n    url: https://example.com/b.html\n    key: [item]\n    columns:\n      item: {{header: Item, type: text, required: true}}\n"
    )));
    let message = |key: &str| {
        found
            .iter()
            .find(|i| i.key == key)
            .map(|i| i.message.clone())
            .unwrap_or_else(|| panic!("no issue for {key}: {found:?}"))
    };
    assert!(message("sources.products.enabled").contains("must stay enabled"));
    assert!(message("sources.x_1")
        .contains("`x_1` and `x1` give the same CloudFormation logical id (X1)"));
}

#[test]
fn a_bad_source_declaration_is_named_with_file_line_and_key() {
    let found = issues(load(&format!(
        "{MINIMAL}sources:\n  Bad-Name:\n    url: https://example.com/a.html\n    key: [item]\n    columns:\n      item: {{header: Item, type: text}}\n  prices:\n    url: https://example.com/b.html\n    key: [item, sku]\n    columns:\n      item: {{header: Item, type: text}}\n      name: {{header: ' item ', type: text}}\n      source: {{header: Source, type: text}}\n      keys: {{header: Keys, type: text}}\n  empty:\n    url: https://example.com/c.html\n    key: []\n    columns: {{}}\n  prices_validated:\n    url: https://example.com/d.html\n    key: [item]\n    columns:\n      item: {{header: Item, type: text}}\n      unit__price: {{header: Price, type: decimal}}\n"
    )));
    let by_key = |key: &str| {
        found
            .iter()
            .find(|i| i.key == key)
            .unwrap_or_else(|| panic!("no issue for {key}: {found:?}"))
    };
    let bad = by_key("sources.Bad-Name");
    assert_eq!(
        (bad.file.to_str(), bad.line),
        (Some("environments/dev.yaml"), Some(4))
    );
    assert!(bad.message.contains("a-z, 0-9 and `_`"), "{bad:?}");
    let key = by_key("sources.prices.key[1]");
    assert_eq!(key.line, Some(11));
    assert!(
        key.message
            .contains("`sku` is not one of the source's columns (item, name, source, keys)"),
        "{key:?}"
    );
    let twice = by_key("sources.prices.columns.name.header");
    assert_eq!(twice.line, Some(14));
    assert!(twice.message.contains("column item's header"), "{twice:?}");
    assert!(by_key("sources.prices.columns.source")
        .message
        .contains("a name pricewatch uses itself"));
    assert!(by_key("sources.empty.columns").message.contains("is empty"));
    assert!(by_key("sources.prices_validated")
        .message
        .contains("ends in `_validated`"));
    assert!(by_key("sources.prices_validated.columns.unit__price")
        .message
        .contains("holds `__`"));
    assert_eq!(by_key("sources.empty.key").line, Some(19));
    assert!(by_key("sources.prices.columns.keys")
        .message
        .contains("a name pricewatch uses itself"));
    let optional_key = by_key("sources.prices.key[0]");
    assert_eq!(optional_key.line, Some(11));
    assert!(
        optional_key
            .message
            .contains("`item` identifies a row, so it must be `required: true`"),
        "{optional_key:?}"
    );
}

#[test]
fn an_unknown_column_type_or_key_is_a_schema_problem() {
    let found = issues(load(&format!(
        "{MINIMAL}sources:\n  prices:\n    url: https://example.com/b.html\n    key: [item]\n    columns:\n      item: {{header: Item, type: float}}\n      price: {{header: Price, type: decimal, nullable: true}}\n"
    )));
    let kind = found
        .iter()
        .find(|i| i.key == "sources.prices.columns.item.type")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(kind.line, Some(8));
    assert!(kind.message.contains("unknown variant `float`"), "{kind:?}");
    let unknown = found
        .iter()
        .find(|i| i.key == "sources.prices.columns.price.nullable")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(unknown.line, Some(9));
}

#[test]
fn every_source_disabled_is_refused() {
    let found = issues(load(&format!(
        "{MINIMAL}sources:\n  products:\n    enabled: false\n  vendors:\n    enabled: false\n"
    )));
    assert!(
        found
            .iter()
            .any(|i| i.key == "sources" && i.message.contains("no source is enabled")),
        "{found:?}"
    );
}

#[test]
fn an_env_file_overriding_an_undeclared_source_is_told_so() {
    let found = issues(load(&format!(
        "{MINIMAL}sources:\n  ghost:\n    url: https://example.com/g.html\n"
    )));
    let ghost = found
        .iter()
        .find(|i| i.key.starts_with("sources.ghost."))
        .unwrap_or_else(|| panic!("{found:?}"));
    assert!(
        ghost
            .message
            .contains("environments/defaults.yaml, that file does not declare it"),
        "{ghost:?}"
    );
}
