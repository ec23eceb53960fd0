//! Security by default, asserted on every env's rendered templates: least
//! privilege in IAM, encryption at rest everywhere, nothing public, and no
//! literal secret in the project's config, templates or SQL. The CI roles
//! (templates/ci/github-roles.yaml), rendered for each env: no role that an
//! unprotected GitHub environment, a branch or a wildcard subject can assume
//! may change stacks or pass roles; roles the stacks create must carry the
//! permissions boundary; KMS, Redshift Serverless and Secrets Manager
//! permissions reach only the env's own resources. The workflows: actions
//! pinned to commits, credentials not kept, concurrency per env.

use crate::support;

use std::path::Path;

use serde_yaml_ng::Value;

/// Actions that have no resource-level permissions in IAM, so `Resource: "*"`
/// is the only way to grant them.
const NO_RESOURCE_LEVEL: [&str; 18] = [
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAvailabilityZones",
    "cloudwatch:PutMetricData",
    "xray:PutTraceSegments",
    "redshift-data:DescribeStatement",
    "redshift-data:GetStatementResult",
    "redshift-data:CancelStatement",
    // GetCredentials reads the caller's RedshiftDbRoles tag with these.
    "tag:GetResources",
    "tag:GetTagKeys",
    // Scoped by an aws:RequestTag condition instead.
    "kms:CreateKey",
    "secretsmanager:GetRandomPassword",
    "chatbot:CreateSlackChannelConfiguration",
    "chatbot:DescribeSlackChannelConfigurations",
    "cloudformation:DescribeStackDriftDetectionStatus",
    // Lists the aliases of the account and region ("Controlling access to
    // aliases", AWS KMS Developer Guide: an IAM policy on `*`).
    "kms:ListAliases",
];

const CI_TEMPLATE: &str = "templates/ci/github-roles.yaml";

fn envs() -> Vec<String> {
    pricewatch_core::config::Environments::new(&support::project_dir())
        .list()
        .unwrap()
}

/// Every env's stacks and the CI role template, parsed: (env, stack, template).
fn templates() -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for env in envs() {
        for stack in support::bundle(&env).stacks {
            let template: Value = serde_yaml_ng::from_str(&stack.template).unwrap();
            all.push((env.clone(), stack.name.clone(), template));
        }
    }
    all.push(("ci".into(), "github-roles".into(), ci_template()));
    all
}

fn ci_template() -> Value {
    let text = std::fs::read_to_string(support::project_dir().join(CI_TEMPLATE)).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn resources(template: &Value) -> Vec<(String, &Value)> {
    template["Resources"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_string(), v))
                .collect()
        })
        .unwrap_or_default()
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        Value::Tagged(tagged) => vec![format!("!{}", tagged.tag)],
        _ => vec![],
    }
}

/// The statements of the identity policies (roles, policies) of a resource.
fn identity_statements(resource: &Value) -> Vec<&Value> {
    let properties = &resource["Properties"];
    let mut documents: Vec<&Value> = Vec::new();
    if let Some(policies) = properties["Policies"].as_sequence() {
        documents.extend(policies.iter().map(|p| &p["PolicyDocument"]));
    }
    documents.push(&properties["PolicyDocument"]);
    documents
        .into_iter()
        .filter_map(|d| d["Statement"].as_sequence())
        .flatten()
        .collect()
}

/// What is wrong with one identity-policy statement, if anything.
fn least_privilege_problem(statement: &Value) -> Option<String> {
    if statement["Effect"].as_str() != Some("Allow") {
        return None;
    }
    let actions = strings(&statement["Action"]);
    if let Some(wild) = actions.iter().find(|a| *a == "*" || a.ends_with(":*")) {
        return Some(format!("allows every action of a service: `{wild}`"));
    }
    let resources = strings(&statement["Resource"]);
    if resources.iter().any(|r| r == "*") {
        let scoped: Vec<&String> = actions
            .iter()
            .filter(|a| !NO_RESOURCE_LEVEL.contains(&a.as_str()))
            .collect();
        if !scoped.is_empty() {
            return Some(format!(
                "Resource \"*\" for actions that support resource-level permissions: {scoped:?}"
            ));
        }
    }
    None
}

pub(crate) fn iam_is_least_privilege_in_every_env() {
    let mut checked = 0;
    for (env, stack, template) in templates() {
        for (id, resource) in resources(&template) {
            for statement in identity_statements(resource) {
                checked += 1;
                if let Some(problem) = least_privilege_problem(statement) {
                    panic!("{env} {stack} {id}: {problem}");
                }
            }
        }
    }
    assert!(checked > 10, "only {checked} statements found");
}

pub(crate) fn the_least_privilege_rule_catches_wildcards() {
    let statement = |text: &str| -> Value { serde_yaml_ng::from_str(text).unwrap() };
    assert!(
        least_privilege_problem(&statement("{Effect: Allow, Action: '*', Resource: x}")).is_some()
    );
    assert!(least_privilege_problem(&statement(
        "{Effect: Allow, Action: [kinesis:PutRecords], Resource: '*'}"
    ))
    .is_some());
    assert!(least_privilege_problem(&statement(
        "{Effect: Allow, Action: [s3:*], Resource: arn:aws:s3:::b}"
    ))
    .is_some());
    assert!(least_privilege_problem(&statement(
        "{Effect: Allow, Action: [ec2:DescribeSubnets], Resource: '*'}"
    ))
    .is_none());
    assert!(
        least_privilege_problem(&statement("{Effect: Deny, Action: 's3:*', Resource: '*'}"))
            .is_none()
    );
}

/// Resource type → the property that must be set for encryption at rest.
const ENCRYPTION: [(&str, &str); 5] = [
    ("AWS::S3::Bucket", "BucketEncryption"),
    ("AWS::Kinesis::Stream", "StreamEncryption"),
    ("AWS::SNS::Topic", "KmsMasterKeyId"),
    ("AWS::Logs::LogGroup", "KmsKeyId"),
    ("AWS::RedshiftServerless::Namespace", "KmsKeyId"),
];

pub(crate) fn everything_that_stores_data_is_encrypted_and_nothing_is_public() {
    let mut seen = std::collections::BTreeSet::new();
    for (env, stack, template) in templates() {
        for (id, resource) in resources(&template) {
            let kind = resource["Type"].as_str().unwrap_or_default();
            let properties = &resource["Properties"];
            if let Some((_, property)) = ENCRYPTION.iter().find(|(t, _)| *t == kind) {
                seen.insert(kind.to_string());
                assert!(
                    !properties[*property].is_null(),
                    "{env} {stack} {id} ({kind}) has no {property}"
                );
            }
            match kind {
                "AWS::S3::Bucket" => {
                    let block = &properties["PublicAccessBlockConfiguration"];
                    for key in [
                        "BlockPublicAcls",
                        "BlockPublicPolicy",
                        "IgnorePublicAcls",
                        "RestrictPublicBuckets",
                    ] {
                        assert_eq!(block[key], Value::Bool(true), "{env} {id}: {key}");
                    }
                }
                "AWS::RedshiftServerless::Workgroup" => {
                    seen.insert(kind.to_string());
                    assert_eq!(
                        properties["PubliclyAccessible"],
                        Value::Bool(false),
                        "{env} {id} is publicly accessible"
                    );
                }
                "AWS::KMS::Key" => assert_eq!(
                    properties["EnableKeyRotation"],
                    Value::Bool(true),
                    "{env} {id}: key rotation"
                ),
                _ => {}
            }
        }
    }
    for kind in ENCRYPTION
        .iter()
        .map(|(t, _)| *t)
        .chain(["AWS::RedshiftServerless::Workgroup"])
    {
        assert!(
            seen.contains(kind),
            "no {kind} in any env: the rule checks nothing"
        );
    }
}

/// Literal secrets: access keys, private keys, passwords in URLs or keys.
fn secrets_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let access_key = line.match_indices("AKIA").any(|(i, _)| {
            let key = &line[i..];
            key.len() >= 20
                && key[..20]
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        });
        let private_key = line.contains("PRIVATE KEY-----");
        // scheme://user:password@host
        let url_password = line.split("://").skip(1).any(|rest| {
            let authority = rest.split(['/', ' ', '"', '\'']).next().unwrap_or_default();
            authority
                .split_once('@')
                .is_some_and(|(userinfo, _)| userinfo.contains(':'))
        });
        // `key: value` or `key = value` where the key names a secret and
        // the value is a literal (not a reference, flag or template).
        let item = line.trim().trim_start_matches("- ");
        // A quoted scalar ("secretsmanager:*Secret*", an IAM action) is a
        // value, not a `key: value`.
        let quoted_scalar = item.len() > 1
            && item.starts_with(['"', '\''])
            && item.ends_with(&item[..1])
            && !item[1..item.len() - 1].contains(['"', '\'']);
        let assigned = !quoted_scalar
            && item
                .split_once(':')
                .or_else(|| item.split_once('='))
                .is_some_and(|(key, value)| {
                    let key = key.trim().to_lowercase();
                    let value = value.trim().trim_matches(['"', '\'']);
                    // Dotted keys are names (e.g. the IAM condition key
                    // `token.actions.githubusercontent.com:aud`), not settings.
                    !key.contains(' ')
                        && !key.contains('.')
                        && ["password", "secret", "token"]
                            .iter()
                            .any(|k| key.contains(k))
                        && !key.ends_with("arn")
                        && !key.ends_with("keyid")
                        && !value.is_empty()
                        && !value.starts_with('!')
                        && !value.contains("{{")
                        // A number is a setting (a generated password's length).
                        && value.parse::<f64>().is_err()
                        && !value.starts_with("arn:")
                        && value != "true"
                        && value != "false"
                });
        if access_key || private_key || url_password || assigned {
            found.push(format!("line {}: {}", n + 1, line.trim()));
        }
    }
    found
}

pub(crate) fn the_secret_scanner_finds_planted_secrets() {
    for planted in [
        "aws_access_key_id: AKIAIOSFODNN7EXAMPLE",
        "-----BEGIN RSA PRIVATE KEY-----",
        "postgres_url: postgres://admin:hunter2@db.example.com/pricewatch",
        "  password: hunter2",
        "secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ] {
        assert_eq!(secrets_in(planted).len(), 1, "missed: {planted}");
    }
    for fine in [
        "postgres_url: postgres://pricewatch@127.0.0.1:5432/pricewatch",
        "ManageAdminPassword: true",
        "AdminPasswordSecretKmsKeyId: !Ref KeyArn",
        "admin_username: pricewatch_admin",
        "- \"secretsmanager:*Secret*\"",
        "\"token.actions.githubusercontent.com:aud\": sts.amazonaws.com",
        "PasswordLength: 40",
        "SecretStringTemplate: '{\"username\": \"{{ roles.quicksight_user }}\"}'",
    ] {
        assert!(secrets_in(fine).is_empty(), "false alarm: {fine}");
    }
}

pub(crate) fn no_literal_secret_in_config_templates_or_sql() {
    let root = support::project_dir();
    let mut scanned = 0;
    for dir in ["environments", "templates", "sql"] {
        for path in files_under(&root.join(dir)) {
            let text = std::fs::read_to_string(&path).unwrap();
            scanned += 1;
            let found = secrets_in(&text);
            assert!(found.is_empty(), "{}: {found:?}", path.display());
        }
    }
    assert!(scanned > 20, "only {scanned} files scanned");
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

pub(crate) fn checkov_suppressions_are_justified_and_documented() {
    let root = support::project_dir();
    let security = std::fs::read_to_string(root.join("docs/security.md")).unwrap();
    let mut found = 0;
    for path in files_under(&root.join("templates/stacks")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(id) = line.trim().strip_prefix("- id: ") else {
                continue;
            };
            found += 1;
            let comment = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
            assert!(
                comment.starts_with("comment: \"") && comment.len() > 40,
                "{}: suppression {id} has no one-line justification",
                path.display()
            );
            assert!(
                security.contains(id),
                "{id} ({}) is not listed in docs/security.md",
                path.display()
            );
        }
    }
    assert!(found > 0, "no suppression found: the parser is wrong");
}

// ---- The CI roles, rendered for an env ---------------------------------

/// What CloudFormation would make of the CI template's intrinsic functions
/// for one env: `!Sub` and `!Ref` of parameters and pseudo parameters are
/// substituted; references to the template's own resources become
/// `resource:<LogicalId>` (`!Ref`) or `resource:<LogicalId>.<Attribute>`
/// (`!GetAtt`); `!If` takes the branch of a true condition.
fn resolve(value: &Value, parameters: &std::collections::BTreeMap<&str, String>) -> Value {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let inner = &tagged.value;
            match tag.as_str() {
                "!Sub" => {
                    let mut text = inner.as_str().expect("!Sub of a string").to_string();
                    while let Some(start) = text.find("${") {
                        let end = start + text[start..].find('}').unwrap();
                        let name = &text[start + 2..end];
                        let replacement = parameters.get(name).cloned().unwrap_or_else(|| {
                            // `${aws:userid}` in a policy is IAM's, not CloudFormation's.
                            format!("{{{name}}}")
                        });
                        text.replace_range(start..=end, &replacement);
                    }
                    Value::String(text.replace("{aws:userid}", "${aws:userid}"))
                }
                "!Ref" => {
                    let name = inner.as_str().unwrap();
                    Value::String(
                        parameters
                            .get(name)
                            .cloned()
                            .unwrap_or_else(|| format!("resource:{name}")),
                    )
                }
                "!GetAtt" => Value::String(format!("resource:{}", inner.as_str().unwrap())),
                "!If" => resolve(&inner.as_sequence().unwrap()[1], parameters),
                other => panic!("the test does not resolve {other}"),
            }
        }
        Value::Sequence(items) => {
            Value::Sequence(items.iter().map(|v| resolve(v, parameters)).collect())
        }
        Value::Mapping(map) => Value::Mapping(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, parameters)))
                .collect(),
        ),
        other => other.clone(),
    }
}

const REPOSITORY: &str = "electroworld/pricewatch";
/// One account for every env: the worst case, where only names and tags
/// keep the envs apart.
const ACCOUNT: &str = "123456789012";

fn ci_roles_for(env: &str) -> Value {
    let parameters = [
        ("GitHubRepository", REPOSITORY.to_string()),
        ("EnvironmentName", env.to_string()),
        ("StackPrefix", "pricewatch".to_string()),
        ("OidcProviderArn", String::new()),
        ("AWS::Partition", "aws".to_string()),
        ("AWS::Region", "eu-west-1".to_string()),
        ("AWS::AccountId", ACCOUNT.to_string()),
    ]
    .into_iter()
    .collect();
    let mut template = ci_template();
    template["Resources"] = resolve(&template["Resources"], &parameters);
    template
}

/// The envs that run in CI (local has no GitHub roles).
fn ci_envs() -> Vec<String> {
    envs().into_iter().filter(|e| e != "local").collect()
}

/// `*` and `?` as IAM matches them in ARNs and condition values.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

pub(crate) fn the_glob_matches_like_iam() {
    assert!(glob("arn:aws:kms:r:1:key/*", "arn:aws:kms:r:1:key/abc"));
    assert!(glob("role/pricewatch-dev-*", "role/pricewatch-dev-ingest"));
    assert!(!glob(
        "role/pricewatch-dev-*",
        "role/pricewatch-ci/pricewatch-dev-deploy"
    ));
    assert!(!glob("a*b", "acb-"));
    assert!(glob("a?c", "abc"));
}

/// Every statement of a role or managed policy: (resource id, statement).
fn statements_of(template: &Value) -> Vec<(String, Value)> {
    resources(template)
        .into_iter()
        .flat_map(|(id, resource)| {
            identity_statements(resource)
                .into_iter()
                .map(|s| (id.clone(), s.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The GitHub OIDC subjects a role trusts, and whether they are exact.
fn oidc_subjects(role: &Value) -> Option<(Vec<String>, bool)> {
    let statements = role["Properties"]["AssumeRolePolicyDocument"]["Statement"].as_sequence()?;
    let mut subjects = Vec::new();
    let mut exact = true;
    for statement in statements {
        if statement["Principal"]["Federated"].is_null() {
            continue;
        }
        let condition = &statement["Condition"];
        for (operator, keys) in condition.as_mapping().unwrap() {
            for (key, value) in keys.as_mapping().unwrap() {
                if key.as_str() == Some("token.actions.githubusercontent.com:sub") {
                    exact &= operator.as_str() == Some("StringEquals");
                    subjects.extend(strings(value));
                }
            }
        }
        assert_eq!(
            condition["StringEquals"]["token.actions.githubusercontent.com:aud"],
            Value::String("sts.amazonaws.com".into())
        );
    }
    (!subjects.is_empty()
        || statements
            .iter()
            .any(|s| !s["Principal"]["Federated"].is_null()))
    .then_some((subjects, exact))
}

/// Actions that change stacks or hand a role to a service.
const DEPLOY_POWERS: [&str; 5] = [
    "cloudformation:ExecuteChangeSet",
    "cloudformation:CreateStack",
    "cloudformation:UpdateStack",
    "cloudformation:DeleteStack",
    "iam:PassRole",
];

/// The deploy powers `id` is allowed, through exact names or wildcards
/// (`cloudformation:Execute*`, `iam:Pass*`, `*`); IAM action names are
/// case-insensitive.
fn deploy_powers(template: &Value, id: &str) -> Vec<String> {
    allowed_actions(template, id)
        .into_iter()
        .filter(|granted| {
            let granted = granted.to_ascii_lowercase();
            DEPLOY_POWERS
                .iter()
                .any(|power| glob(&granted, &power.to_ascii_lowercase()))
        })
        .collect()
}

fn allowed_actions(template: &Value, id: &str) -> Vec<String> {
    statements_of(template)
        .into_iter()
        .filter(|(owner, s)| owner == id && s["Effect"].as_str() == Some("Allow"))
        .flat_map(|(_, s)| strings(&s["Action"]))
        .collect()
}

pub(crate) fn only_the_approved_environment_may_deploy() {
    for env in ci_envs() {
        let template = ci_roles_for(&env);
        let approved = format!("repo:{REPOSITORY}:environment:{env}");
        let mut deployers = Vec::new();
        let mut federated = 0;
        for (id, resource) in resources(&template) {
            let Some((subjects, exact)) = oidc_subjects(resource) else {
                continue;
            };
            federated += 1;
            assert!(
                exact,
                "{env} {id}: the OIDC subject condition must be StringEquals"
            );
            assert!(!subjects.is_empty(), "{env} {id}: trusts every subject");
            for subject in &subjects {
                assert!(
                    !subject.contains(['*', '?']),
                    "{env} {id}: wildcard subject {subject}"
                );
                assert!(
                    subject.starts_with(&format!("repo:{REPOSITORY}:environment:")),
                    "{env} {id}: {subject} is not a GitHub environment of the repository"
                );
            }
            let powers = deploy_powers(&template, &id);
            if !powers.is_empty() {
                assert_eq!(
                    subjects,
                    vec![approved.clone()],
                    "{env} {id} may {powers:?}: only the reviewed environment {env} may assume it"
                );
                deployers.push(id);
            }
        }
        assert_eq!(federated, 3, "{env}: plan, deploy and operate roles");
        assert_eq!(deployers, ["DeployRole"], "{env}");
        // The plan role is usable from ENV-operate (the promotion's plan job).
        let plan = allowed_actions(&template, "PlanRole");
        assert!(plan.contains(&"cloudformation:CreateChangeSet".to_string()));
        let (subjects, _) = oidc_subjects(&template["Resources"]["PlanRole"]).unwrap();
        assert_eq!(subjects, [format!("{approved}-operate")]);
    }
}

pub(crate) fn the_deploy_check_catches_a_trusting_role() {
    // The same rule on a planted role: ENV-operate may execute change sets.
    let mut template = ci_roles_for("dev");
    let plan = template["Resources"]["PlanRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_sequence_mut()
        .unwrap();
    plan[0]["Action"]
        .as_sequence_mut()
        .unwrap()
        .push(Value::String("cloudformation:Execute*".into()));
    assert_eq!(
        deploy_powers(&template, "PlanRole"),
        ["cloudformation:Execute*"]
    );
    assert!(deploy_powers(&ci_roles_for("dev"), "PlanRole").is_empty());
}

/// The IAM actions that create a role or change what it may do.
const ROLE_SHAPING: [&str; 7] = [
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
];

pub(crate) fn every_role_the_stacks_create_carries_the_boundary() {
    for env in ci_envs() {
        let template = ci_roles_for(&env);
        let boundary = &resources(&template)
            .into_iter()
            .find(|(_, r)| r["Type"] == "AWS::IAM::ManagedPolicy")
            .expect("a permissions boundary policy")
            .1["Properties"];
        let boundary_arn = format!(
            "arn:aws:iam::{ACCOUNT}:policy{}{}",
            boundary["Path"].as_str().unwrap(),
            boundary["ManagedPolicyName"].as_str().unwrap()
        );
        let mut shaping = 0;
        for (id, statement) in statements_of(&template) {
            let actions = strings(&statement["Action"]);
            assert!(
                !actions
                    .iter()
                    .any(|a| a == "iam:DeleteRolePermissionsBoundary"
                        || (a.starts_with("iam:") && a.contains('*'))
                        || a.starts_with("iam:CreatePolicy")),
                "{env} {id}: {actions:?} could remove or rewrite a boundary"
            );
            if !actions.iter().any(|a| ROLE_SHAPING.contains(&a.as_str())) {
                continue;
            }
            shaping += 1;
            assert_eq!(
                statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"],
                Value::String("resource:PermissionsBoundary".into()),
                "{env} {id}: {actions:?} without the boundary condition"
            );
            // No role-shaping pattern reaches the CI roles (they live under
            // the CI path) or another env's roles.
            for pattern in strings(&statement["Resource"]) {
                for role in [
                    "github-deploy",
                    "github-plan",
                    "github-operate",
                    "cloudformation",
                ] {
                    let ci_role = format!(
                        "arn:aws:iam::{ACCOUNT}:role/pricewatch-ci/pricewatch-{env}-{role}"
                    );
                    assert!(
                        !glob(&pattern, &ci_role),
                        "{env} {id}: {pattern} reaches {ci_role}"
                    );
                }
                for other in ci_envs().iter().filter(|o| **o != env) {
                    let foreign = format!("arn:aws:iam::{ACCOUNT}:role/pricewatch-{other}-ingest");
                    assert!(
                        !glob(&pattern, &foreign),
                        "{env} {id}: {pattern} reaches {foreign}"
                    );
                }
            }
        }
        assert!(
            shaping > 0,
            "{env}: the CloudFormation role creates no role?"
        );

        // Every role of the env's rendered stacks names exactly that policy.
        let mut roles = 0;
        for stack in support::bundle(&env).stacks {
            let rendered: Value = serde_yaml_ng::from_str(&stack.template).unwrap();
            for (id, resource) in resources(&rendered) {
                if resource["Type"] != "AWS::IAM::Role" {
                    continue;
                }
                roles += 1;
                let actual = resource["Properties"]["PermissionsBoundary"]
                    .as_str()
                    .unwrap_or_default()
                    .replace(&settings_account(&env), ACCOUNT);
                assert_eq!(actual, boundary_arn, "{env} {} {id}", stack.name);
            }
        }
        assert!(roles >= 3, "{env}: only {roles} roles found");
    }
}

fn settings_account(env: &str) -> String {
    support::bundle(env).env.settings.account_id.clone()
}

/// Resources of another env (`OTHER`) that a permission of this env must not
/// reach, per service: names where AWS names them after the env, generated
/// ids where it does not.
fn foreign_resources(other: &str) -> Vec<String> {
    let region = "eu-west-1";
    vec![
        format!("arn:aws:kms:{region}:{ACCOUNT}:key/0d3c2b1a-aaaa-bbbb-cccc-{other}"),
        format!("arn:aws:kms:{region}:{ACCOUNT}:alias/pricewatch-{other}"),
        format!("arn:aws:redshift-serverless:{region}:{ACCOUNT}:workgroup/9f8e7d6c-{other}"),
        format!("arn:aws:redshift-serverless:{region}:{ACCOUNT}:namespace/1a2b3c4d-{other}"),
        format!("arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:redshift!pricewatch-{other}-pricewatch_admin-AbCdEf"),
        format!("arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:redshift!namespace-pricewatch-{other}-pricewatch_admin-AbCdEf"),
        format!("arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:pricewatch-{other}-quicksight-login-AbCdEf"),
    ]
}

const SCOPED_SERVICES: [&str; 4] = [
    "kms:",
    "redshift-serverless:",
    "redshift-data:",
    "secretsmanager:",
];

/// Whether a statement is limited to resources tagged with the env.
fn tag_scoped(statement: &Value, env: &str) -> bool {
    [
        "aws:ResourceTag/pricewatch:env",
        "aws:RequestTag/pricewatch:env",
    ]
    .iter()
    .any(|key| statement["Condition"]["StringEquals"][*key] == Value::String(env.into()))
}

pub(crate) fn kms_redshift_and_secrets_reach_only_the_env_itself() {
    let mut checked = 0;
    for env in ci_envs() {
        let template = ci_roles_for(&env);
        for (id, statement) in statements_of(&template) {
            let actions: Vec<String> = strings(&statement["Action"])
                .into_iter()
                .filter(|a| SCOPED_SERVICES.iter().any(|s| a.starts_with(s)))
                .filter(|a| !NO_RESOURCE_LEVEL.contains(&a.as_str()))
                .collect();
            if actions.is_empty() || statement["Effect"] != "Allow" {
                continue;
            }
            checked += 1;
            if tag_scoped(&statement, &env) {
                continue;
            }
            for other in ci_envs().iter().filter(|o| **o != env) {
                for pattern in strings(&statement["Resource"]) {
                    for foreign in foreign_resources(other) {
                        assert!(
                            !glob(&pattern, &foreign),
                            "{env} {id} {actions:?}: {pattern} reaches {foreign} of env {other}"
                        );
                    }
                }
            }
        }
    }
    assert!(checked > 10, "only {checked} statements checked");
}

pub(crate) fn the_scope_check_catches_an_untagged_key_permission() {
    let statement: Value = serde_yaml_ng::from_str(
        "{Effect: Allow, Action: [kms:Decrypt], Resource: 'arn:aws:kms:eu-west-1:123456789012:key/*'}",
    )
    .unwrap();
    assert!(!tag_scoped(&statement, "dev"));
    assert!(foreign_resources("test")
        .iter()
        .any(|f| glob(statement["Resource"].as_str().unwrap(), f)));
}

pub(crate) fn the_ci_roles_map_to_their_database_roles() {
    let template = ci_roles_for("prod");
    for (role, database_role) in [
        ("PlanRole", "pricewatch_reader"),
        ("DeployRole", "pricewatch_deployer"),
        ("OperateRole", "pricewatch_operator"),
    ] {
        let tags = &template["Resources"][role]["Properties"]["Tags"];
        let value = tags
            .as_sequence()
            .unwrap()
            .iter()
            .find(|t| t["Key"] == "RedshiftDbRoles")
            .map(|t| t["Value"].clone());
        assert_eq!(value, Some(Value::String(database_role.into())), "{role}");
    }
    // The operator Lambda signs in to Redshift as the operator, never as
    // the owner (its IAM role's tag names the database role).
    let bundle = support::bundle("prod");
    let operator = bundle.stacks.iter().find(|s| s.name == "operator").unwrap();
    let operator: Value = serde_yaml_ng::from_str(&operator.template).unwrap();
    let roles: Vec<&Value> = resources(&operator)
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::Role")
        .map(|(_, r)| &r["Properties"]["Tags"])
        .collect();
    assert!(
        roles
            .iter()
            .any(|tags| tags.as_sequence().is_some_and(|tags| tags
                .iter()
                .any(|t| t["Key"] == "RedshiftDbRoles" && t["Value"] == "pricewatch_operator"))),
        "the operator Lambda's role maps to pricewatch_operator"
    );
}

// ---- The workflows -----------------------------------------------------

fn workflows() -> Vec<(String, String, Value)> {
    let dir = support::project_dir().join(".github/workflows");
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let parsed = serde_yaml_ng::from_str(&text).unwrap();
            (name, text, parsed)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(found.len(), 4, "ci, deploy, operate, promote");
    found
}

pub(crate) fn every_action_is_pinned_to_a_commit_with_its_version() {
    let mut pinned = 0;
    for (name, text, _) in workflows() {
        for line in text.lines() {
            let Some(uses) = line.trim().trim_start_matches("- ").strip_prefix("uses: ") else {
                continue;
            };
            if uses.starts_with("./") {
                continue;
            }
            let (reference, comment) = uses.split_once(" # ").unwrap_or((uses, ""));
            let sha = reference
                .split_once('@')
                .map(|(_, r)| r)
                .unwrap_or_default();
            assert!(
                sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                "{name}: `{reference}` is not pinned to a full commit SHA"
            );
            assert!(
                !comment.trim().is_empty(),
                "{name}: `{reference}` needs its version in a comment"
            );
            pinned += 1;
        }
    }
    assert!(pinned > 10, "only {pinned} actions found");
}

pub(crate) fn jobs_keep_no_credentials_have_own_permissions_and_never_overlap_on_an_env() {
    for (name, _, workflow) in workflows() {
        assert_eq!(
            workflow["permissions"],
            Value::Mapping(Default::default()),
            "{name}: the workflow grants nothing; each job asks for its own"
        );
        for (job_id, job) in workflow["jobs"].as_mapping().unwrap() {
            let job_id = job_id.as_str().unwrap();
            assert!(
                job["permissions"].is_mapping(),
                "{name} {job_id}: no job-level permissions"
            );
            for step in job["steps"].as_sequence().into_iter().flatten() {
                if step["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/checkout@"))
                {
                    assert_eq!(
                        step["with"]["persist-credentials"],
                        Value::Bool(false),
                        "{name} {job_id}: checkout keeps its token"
                    );
                }
            }
            // Jobs that assume an AWS role act on an env: one at a time per
            // env, never cancelling a running one.
            if job["permissions"]["id-token"] == "write" && job["steps"].is_sequence() {
                let concurrency = &job["concurrency"];
                let group = concurrency["group"].as_str().unwrap_or_default();
                assert!(
                    group.contains("pricewatch-${{ inputs.env }}")
                        || group.contains("format('pricewatch-{0}', inputs.env)"),
                    "{name} {job_id}: no per-env concurrency group ({group})"
                );
                assert_eq!(
                    concurrency["cancel-in-progress"],
                    Value::Bool(false),
                    "{name} {job_id}"
                );
            }
        }
    }
}

pub(crate) fn promotion_waits_for_the_tests_of_the_commit_and_publishes_the_dashboard() {
    let all = workflows();
    let find = |n: &str| all.iter().find(|(name, _, _)| name == n).unwrap();
    let (_, _, deploy) = find("deploy.yml");
    let jobs = &deploy["jobs"];
    assert_eq!(jobs["test"]["uses"], "./.github/workflows/ci.yml");
    let dev_needs = strings(&jobs["dev"]["needs"]);
    assert!(
        dev_needs.contains(&"test".to_string()) && dev_needs.contains(&"build".to_string()),
        "dev is promoted only after the tests and the build: {dev_needs:?}"
    );
    assert_eq!(
        strings(&jobs["build"]["needs"]),
        vec!["test".to_string()],
        "on-call runs the newest build of main: only a tested commit gets one"
    );
    let (_, ci_text, ci) = find("ci.yml");
    assert!(
        ci["on"]
            .as_mapping()
            .is_some_and(|on| on.contains_key("workflow_call")),
        "ci.yml is callable"
    );
    assert!(ci_text.contains("scripts/test.sh"));
    let (_, promote_text, _) = find("promote.yml");
    let sql = promote_text.find("run: bash scripts/promote-sql.sh apply");
    let dashboard = promote_text.find("dist/pricewatch --no-progress dashboard publish");
    assert!(
        matches!((sql, dashboard), (Some(s), Some(d)) if s < d),
        "promote runs `dashboard publish` after `sql apply`"
    );
    let plan = promote_text.find("bash scripts/promote-sql.sh plan");
    assert!(
        matches!((plan, sql), (Some(p), Some(s)) if p < s),
        "the SQL plan is shown before approval"
    );
    // Both SQL steps see the same allowed replacements: a plan that
    // replaces a stream model is shown (and approved) with the flag the
    // deploy job then applies.
    assert_eq!(
        promote_text
            .matches("ALLOW_REPLACE: ${{ inputs.allow_replace }}")
            .count(),
        2,
        "the plan and the apply get allow_replace"
    );
    // The build is promoted, never rebuilt: no job of promote compiles.
    assert!(
        !promote_text.contains("cargo "),
        "promote.yml must not build"
    );
}

/// scripts/promote-sql.sh: the plan step passes the same --allow-replace
/// flags as the apply step, and a refused plan still reaches the summary
/// page (with pricewatch's exit code) before the job fails.
pub(crate) fn promotion_plans_the_sql_it_applies() {
    let script = support::project_dir().join("scripts/promote-sql.sh");
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let refusing = dir.path().join("refusing");
    std::fs::write(&refusing, "#!/bin/sh\necho \"REFUSED: $*\"\nexit 1\n").unwrap();
    std::fs::set_permissions(
        &refusing,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let run = |bin: &Path, mode: &str, allow: &str| {
        let out = std::process::Command::new("bash")
            .arg(&script)
            .arg(mode)
            .current_dir(dir.path())
            .env("PRICEWATCH_BIN", bin)
            .env("ALLOW_REPLACE", allow)
            .env("PRICEWATCH_ENV", "prod")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        )
    };
    let echo = Path::new("echo");
    assert_eq!(
        run(echo, "plan", "bronze.products silver.products"),
        (
            Some(0),
            "--no-progress sql apply --dry-run --allow-replace bronze.products --allow-replace silver.products"
                .into()
        )
    );
    assert_eq!(
        run(echo, "apply", "bronze.products silver.products"),
        (
            Some(0),
            "--no-progress sql apply --allow-replace bronze.products --allow-replace silver.products"
                .into()
        )
    );
    assert_eq!(
        run(echo, "apply", ""),
        (Some(0), "--no-progress sql apply".into())
    );
    std::fs::remove_file(&summary).unwrap();
    std::fs::write(dir.path().join("bronze.x"), "").unwrap();
    let (status, out) = run(&refusing, "plan", "");
    assert_eq!(status, Some(1), "a refused plan fails the job: {out}");
    let page = std::fs::read_to_string(&summary).unwrap();
    assert!(
        page.contains("### SQL plan for prod (exit 1)")
            && page.contains("REFUSED: --no-progress sql apply --dry-run"),
        "the refused plan is on the summary page: {page}"
    );
    for (mode, allow) in [
        ("plan", "bronze.products;id"),
        ("apply", "$(id)"),
        ("apply", "--bootstrap"),
        // Never globbed against the files in the working directory.
        ("plan", "bronze.*"),
        ("destroy", ""),
    ] {
        assert_eq!(run(echo, mode, allow).0, Some(2), "{mode} {allow}");
    }
}

pub(crate) fn operate_validates_its_inputs_before_running_anything() {
    let script = support::project_dir().join("scripts/operate-command.sh");
    let dir = tempfile::tempdir().unwrap();
    // A file a glob of a target would match: targets are never globbed.
    std::fs::write(dir.path().join("silver.x"), "").unwrap();
    let run = |command: &str, target: &str| {
        let out = std::process::Command::new("bash")
            .arg(&script)
            .current_dir(dir.path())
            .env("PRICEWATCH_BIN", "echo")
            .env("COMMAND", command)
            .env("TARGET", target)
            .env("PRICEWATCH_ENV", "dev")
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        )
    };
    assert_eq!(
        run("refresh", "silver.products+ gold.hourly_prices"),
        (
            Some(0),
            "--no-progress refresh --select silver.products+ --select gold.hourly_prices".into()
        )
    );
    assert_eq!(
        run("explain-check", "products_fresh"),
        (Some(0), "--no-progress explain-check products_fresh".into())
    );
    assert_eq!(
        run("status --detect-drift", ""),
        (Some(0), "--no-progress status --detect-drift".into())
    );
    assert_eq!(
        run("deploy --recover", ""),
        (Some(0), "--no-progress deploy --recover --yes".into())
    );
    assert_eq!(
        run("dashboard refresh", ""),
        (Some(0), "--no-progress dashboard refresh".into())
    );
    assert_eq!(
        run("backfill", "vendors since=2026-11-01 until=7d dry-run"),
        (
            Some(0),
            "--no-progress backfill --source vendors --since 2026-11-01 --until 7d --dry-run"
                .into()
        )
    );
    assert_eq!(
        run("backfill", ""),
        (Some(0), "--no-progress backfill".into())
    );
    assert_eq!(
        run("backfill", "prices"),
        (Some(0), "--no-progress backfill --source prices".into()),
        "any declared source (pricewatch checks the name)"
    );
    for (command, target) in [
        ("explain-check", "x; rm -rf /"),
        ("refresh", "silver.*"),
        ("explain-check", ""),
        ("refresh", "$(id)"),
        ("backfill", "since=$(id)"),
        ("backfill", "--source products"),
        ("status", "--env prod"),
        ("destroy", ""),
    ] {
        assert_eq!(run(command, target).0, Some(2), "{command} {target}");
    }
}

/// GitHub's answers for one env and its `-operate` twin, as the REST API
/// gives them; `broken` plants what the checker must catch.
fn github_fixtures(dir: &Path, env: &str, reviewed: bool, broken: bool) {
    let write = |path: &str, value: serde_json::Value| {
        let name = path.trim_start_matches('/').replace('/', "__") + ".json";
        std::fs::write(dir.join(name), value.to_string()).unwrap();
    };
    let role = |kind: &str| {
        format!("arn:aws:iam::{ACCOUNT}:role/pricewatch-ci/pricewatch-{env}-github-{kind}")
    };
    for (name, vars) in [
        (
            env.to_string(),
            ["AWS_DEPLOY_ROLE_ARN", "AWS_OPERATE_ROLE_ARN"],
        ),
        (
            format!("{env}-operate"),
            ["AWS_PLAN_ROLE_ARN", "AWS_OPERATE_ROLE_ARN"],
        ),
    ] {
        let base = format!("/repos/{REPOSITORY}/environments/{name}");
        let gated = reviewed && name == env;
        let mut rules = vec![serde_json::json!({"type": "branch_policy"})];
        if gated {
            rules.push(serde_json::json!({
                "type": "required_reviewers",
                "prevent_self_review": !broken,
                "reviewers": [{"type": "Team", "reviewer": {"slug": "pricing-oncall"}}],
            }));
        }
        let policy = if broken && name.ends_with("-operate") {
            serde_json::Value::Null
        } else {
            serde_json::json!({"protected_branches": false, "custom_branch_policies": true})
        };
        write(
            &base,
            serde_json::json!({
                "name": name,
                "protection_rules": rules,
                "deployment_branch_policy": policy,
                "can_admins_bypass": !gated || broken,
            }),
        );
        write(
            &format!("{base}/deployment-branch-policies"),
            serde_json::json!({"total_count": 1, "branch_policies": [{"name": "main", "type": "branch"}]}),
        );
        let mut variables = vec![serde_json::json!({"name": "AWS_REGION", "value": "eu-west-1"})];
        for var in vars {
            let kind = var.split('_').nth(1).unwrap().to_lowercase();
            let value = if broken && var == "AWS_DEPLOY_ROLE_ARN" {
                role("operate")
            } else {
                role(&kind)
            };
            variables.push(serde_json::json!({"name": var, "value": value}));
        }
        write(
            &format!("{base}/variables"),
            serde_json::json!({"variables": variables}),
        );
    }
}

pub(crate) fn the_github_environment_check_finds_a_way_around_the_approval() {
    let python = std::env::var("PRICEWATCH_VENV")
        .map(|venv| format!("{venv}/bin/python"))
        .unwrap_or_else(|_| "python3".into());
    let script = support::project_dir().join("scripts/check-github-environments.py");
    let check = |dir: &Path| {
        std::process::Command::new(&python)
            .arg(&script)
            .arg(REPOSITORY)
            .env("GITHUB_API_FIXTURES", dir)
            .output()
            .unwrap()
    };
    let good = tempfile::tempdir().unwrap();
    for env in ["dev", "test", "prod"] {
        github_fixtures(good.path(), env, env != "dev", false);
    }
    let out = check(good.path());
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = tempfile::tempdir().unwrap();
    for env in ["dev", "test"] {
        github_fixtures(bad.path(), env, env != "dev", false);
    }
    github_fixtures(bad.path(), "prod", true, true);
    let out = check(bad.path());
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for expected in [
        "environment prod: reviewers may approve their own runs",
        "environment prod-operate: deployment branches are not limited to `main`",
        "environment prod: AWS_DEPLOY_ROLE_ARN is",
        "environment prod: administrators may bypass its reviewers",
    ] {
        assert!(
            stdout.contains(expected),
            "missing `{expected}` in:\n{stdout}"
        );
    }
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
}

// ---- Alarms: two severities, each its own topic -------------------------

/// Every configured subscription (e-mail, HTTPS, Slack through AWS
/// Chatbot) is one resource on its severity's topic, and nothing else is.
fn assert_subscriptions(
    foundation: &Value,
    env: &pricewatch_core::config::Environment,
    name: &str,
) {
    let alarms = &env.settings.alarms;
    for (topic, subs) in [("Page", &alarms.page), ("Ticket", &alarms.ticket)] {
        let on_topic: Vec<String> = resources(foundation)
            .iter()
            .filter(|(_, r)| {
                r["Type"] == "AWS::SNS::Subscription"
                    || r["Type"] == "AWS::Chatbot::SlackChannelConfiguration"
            })
            .filter(|(_, r)| {
                serde_yaml_ng::to_string(&r["Properties"])
                    .unwrap()
                    .contains(&format!("!Ref {topic}Topic"))
            })
            .map(|(id, r)| format!("{id} {}", r["Type"].as_str().unwrap_or_default()))
            .collect();
        assert_eq!(
            on_topic.len(),
            subs.email.len() + subs.https.len() + subs.chatbot.len(),
            "{name} {topic}: {on_topic:?}"
        );
        assert_eq!(
            on_topic
                .iter()
                .filter(|r| r.ends_with("SlackChannelConfiguration"))
                .count(),
            subs.chatbot.len(),
            "{name} {topic}: {on_topic:?}"
        );
    }
}

/// dev with every kind of subscription on both topics (no env file sets
/// HTTPS or Slack today).
pub(crate) fn every_kind_of_subscription_reaches_its_topic() {
    use pricewatch_core::config::{Environments, SlackChannel, Subscriptions};
    let dir = support::project_dir();
    let project = pricewatch_core::project::Project::load(&dir).expect("project loads");
    let mut env = Environments::new(&dir).load("dev").expect("dev loads");
    let channel = |id: &str| SlackChannel {
        workspace_id: "T0123ABCD".into(),
        channel_id: id.into(),
    };
    env.settings.alarms.page = Subscriptions {
        email: vec!["oncall@example.com".into()],
        https: vec!["https://events.example.com/page".into()],
        chatbot: vec![channel("C0456EFGH")],
    };
    env.settings.alarms.ticket = Subscriptions {
        email: vec![],
        https: vec!["https://events.example.com/ticket".into()],
        chatbot: vec![channel("C0789IJKL"), channel("C0000MNOP")],
    };
    let bundle = pricewatch_core::bundle::build(&project, &env).unwrap_or_else(|e| panic!("{e}"));
    let found = bundle
        .stacks
        .iter()
        .find(|s| s.name == "foundation")
        .unwrap();
    let foundation: Value = serde_yaml_ng::from_str(&found.template).unwrap();
    assert_subscriptions(&foundation, &env, "dev with every subscription");
    assert_eq!(
        foundation["Resources"]["ChatbotRole"]["Type"], "AWS::IAM::Role",
        "the Slack channels' role"
    );
}

pub(crate) fn every_alarm_notifies_a_topic_of_its_severity() {
    for env in envs() {
        let bundle = support::bundle(&env);
        let stack = |name: &str| -> Value {
            let found = bundle.stacks.iter().find(|s| s.name == name).unwrap();
            serde_yaml_ng::from_str(&found.template).unwrap()
        };
        let foundation = stack("foundation");
        for topic in ["PageTopic", "TicketTopic"] {
            assert_eq!(
                foundation["Resources"][topic]["Type"], "AWS::SNS::Topic",
                "{env}: {topic}"
            );
        }
        assert_subscriptions(&foundation, &bundle.env, &env);

        let monitoring = stack("monitoring");
        let mut per_topic = std::collections::BTreeMap::<String, usize>::new();
        for (id, resource) in resources(&monitoring) {
            let kind = resource["Type"].as_str().unwrap_or_default();
            if !kind.starts_with("AWS::CloudWatch::") || kind == "AWS::CloudWatch::Dashboard" {
                continue;
            }
            let actions = &resource["Properties"]["AlarmActions"];
            let is_check = id.starts_with("Check") && kind == "AWS::CloudWatch::Alarm";
            if is_check {
                assert!(
                    actions.is_null(),
                    "{env} {id}: a check alarm notifies by itself"
                );
                continue;
            }
            let topics: Vec<String> = actions
                .as_sequence()
                .unwrap_or_else(|| panic!("{env} {id} notifies nobody"))
                .iter()
                .map(|a| match a {
                    Value::Tagged(t) => t.value.as_str().unwrap().to_string(),
                    other => panic!("{env} {id}: {other:?}"),
                })
                .collect();
            assert_eq!(topics.len(), 1, "{env} {id}: one severity per alarm");
            *per_topic.entry(topics[0].clone()).or_default() += 1;
        }
        assert!(per_topic["PageTopicArn"] >= 3, "{env}: {per_topic:?}");
        assert!(per_topic["TicketTopicArn"] >= 3, "{env}: {per_topic:?}");
        assert_eq!(
            monitoring["Resources"]["ChecksWarnCompositeAlarm"]["Properties"]["AlarmActions"][0],
            Value::Tagged(Box::new(serde_yaml_ng::value::TaggedValue {
                tag: serde_yaml_ng::value::Tag::new("Ref"),
                value: Value::String("TicketTopicArn".into()),
            })),
            "{env}: warn thresholds open a ticket"
        );
    }
}

pub(crate) fn the_boundary_allows_every_action_the_stacks_roles_use() {
    // A role asking for more than the boundary allows would fail at run
    // time, silently capped: the boundary must grow with the roles.
    let template = ci_roles_for("prod");
    let boundary: Vec<String> = statements_of(&template)
        .into_iter()
        .filter(|(id, _)| id == "PermissionsBoundary")
        .flat_map(|(_, s)| strings(&s["Action"]))
        .collect();
    assert!(boundary.len() > 10, "{boundary:?}");
    for env in ci_envs() {
        for stack in support::bundle(&env).stacks {
            let rendered: Value = serde_yaml_ng::from_str(&stack.template).unwrap();
            for (id, resource) in resources(&rendered) {
                if resource["Type"] != "AWS::IAM::Role" {
                    continue;
                }
                for statement in identity_statements(resource) {
                    for action in strings(&statement["Action"]) {
                        assert!(
                            boundary.iter().any(|b| glob(b, &action)),
                            "{env} {} {id}: {action} is outside the permissions boundary \
                             (templates/ci/github-roles.yaml, PermissionsBoundary)",
                            stack.name
                        );
                    }
                }
            }
        }
    }
}

// ---- The snapshot archive (#22) ----------------------------------------

/// A stack of an env, parsed.
fn stack_of(env: &str, name: &str) -> Value {
    let bundle = support::bundle(env);
    let stack = bundle.stacks.iter().find(|s| s.name == name).unwrap();
    serde_yaml_ng::from_str(&stack.template).unwrap()
}

/// The Allow statements of a role in a rendered stack.
fn role_statements(template: &Value, role: &str) -> Vec<Value> {
    identity_statements(&template["Resources"][role])
        .into_iter()
        .filter(|s| s["Effect"] == "Allow")
        .cloned()
        .collect()
}

pub(crate) fn the_archive_is_private_kept_where_data_is_kept_and_moved_as_configured() {
    for env in envs() {
        let settings = support::bundle(&env).env.settings;
        let foundation = stack_of(&env, "foundation");
        let bucket = &foundation["Resources"]["ArchiveBucket"];
        assert_eq!(bucket["Type"], "AWS::S3::Bucket", "{env}");
        let properties = &bucket["Properties"];
        assert_eq!(
            properties["VersioningConfiguration"]["Status"], "Enabled",
            "{env}"
        );
        assert_eq!(
            properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
                ["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
            "aws:kms",
            "{env}"
        );
        let retained = if settings.deploy.retain_data {
            "Retain"
        } else {
            "Delete"
        };
        assert_eq!(bucket["DeletionPolicy"], retained, "{env}");
        let rule = &properties["LifecycleConfiguration"]["Rules"][0];
        match settings.archive.transition_days {
            Some(days) => {
                assert_eq!(
                    rule["Transitions"][0]["TransitionInDays"],
                    Value::from(days),
                    "{env}"
                );
                assert_eq!(
                    rule["Transitions"][0]["StorageClass"], "GLACIER_IR",
                    "{env}"
                );
            }
            None => assert!(rule["Transitions"].is_null(), "{env}"),
        }
        match settings.archive.expire_days {
            Some(days) => assert_eq!(rule["ExpirationInDays"], Value::from(days), "{env}"),
            None => assert!(rule["ExpirationInDays"].is_null(), "{env}"),
        }
        // Only TLS reaches it.
        let policy =
            &foundation["Resources"]["ArchiveBucketPolicy"]["Properties"]["PolicyDocument"];
        assert_eq!(policy["Statement"][0]["Effect"], "Deny", "{env}");
    }
    let prod = support::bundle("prod").env.settings;
    assert!(
        prod.deploy.retain_data,
        "prod keeps the archive when destroyed"
    );
    assert!(
        prod.archive.transition_days.is_some(),
        "prod moves old snapshots to an archive storage class"
    );
}

pub(crate) fn the_ingest_role_may_only_add_objects_under_archive() {
    for env in envs() {
        let ingest = stack_of(&env, "ingest");
        // `!Sub` resources with their text (`strings` shows only the tag).
        let resource_text = |value: &Value| match value {
            Value::Tagged(tagged) => tagged.value.as_str().unwrap_or_default().to_string(),
            other => strings(other).join(" "),
        };
        let archive_statements: Vec<Value> = role_statements(&ingest, "Role")
            .into_iter()
            .filter(|s| resource_text(&s["Resource"]).contains("ArchiveBucketName"))
            .collect();
        assert_eq!(archive_statements.len(), 1, "{env}: {archive_statements:?}");
        let statement = &archive_statements[0];
        // Aborting a failed multipart upload drops its parts, never an object.
        assert_eq!(
            strings(&statement["Action"]),
            ["s3:PutObject", "s3:AbortMultipartUpload"],
            "{env}"
        );
        let resource = resource_text(&statement["Resource"]);
        assert!(
            resource.ends_with("${ArchiveBucketName}/archive/*"),
            "{env}: {resource}"
        );
    }
}

pub(crate) fn the_boundary_and_the_ci_roles_reach_the_archive_as_far_as_needed() {
    for env in ci_envs() {
        let template = ci_roles_for(&env);
        let bucket = format!("arn:aws:s3:::pricewatch-{env}-archive-{ACCOUNT}");
        let object = format!("{bucket}/archive/products/2026/11/25/x.ndjson.gz");
        let allows = |id: &str, action: &str, resource: &str| {
            statements_of(&template).iter().any(|(owner, s)| {
                owner == id
                    && s["Effect"] == "Allow"
                    && strings(&s["Action"]).iter().any(|a| glob(a, action))
                    && strings(&s["Resource"]).iter().any(|r| glob(r, resource))
            })
        };
        // The ingest role writes, Redshift's archive role reads and lists.
        for (action, resource) in [
            ("s3:PutObject", &object),
            ("s3:AbortMultipartUpload", &object),
            ("s3:GetObject", &object),
            ("s3:ListBucket", &bucket),
        ] {
            assert!(
                allows("PermissionsBoundary", action, resource),
                "{env}: the boundary lacks {action} on {resource}"
            );
        }
        assert!(
            !allows(
                "PermissionsBoundary",
                "s3:PutObject",
                &format!("{bucket}/elsewhere")
            ),
            "{env}: only under archive/"
        );
        // CloudFormation creates and changes the bucket (named after the env).
        for action in [
            "s3:CreateBucket",
            "s3:PutBucketVersioning",
            "s3:PutEncryptionConfiguration",
            "s3:PutLifecycleConfiguration",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketOwnershipControls",
            "s3:PutBucketPolicy",
            "s3:PutBucketTagging",
            "s3:DeleteBucket",
        ] {
            assert!(
                allows("CloudFormationRole", action, &bucket),
                "{env}: CloudFormation cannot {action} the archive bucket"
            );
        }
        // On call: `backfill` lists and reads, `ingest` writes.
        for (action, resource) in [
            ("s3:GetObject", &object),
            ("s3:PutObject", &object),
            ("s3:ListBucket", &bucket),
        ] {
            assert!(
                allows("OperateRole", action, resource),
                "{env}: the operate role lacks {action} on {resource}"
            );
        }
        assert!(!allows("OperateRole", "s3:DeleteObject", &object), "{env}");
    }
}

/// Every config string reaches a stack template through the one escaping
/// filter: with hostile values in every string setting (validation
/// bypassed), each template still parses to the same resources and keys as
/// with plain ones, and each value comes back exactly.
pub(crate) fn config_strings_cannot_change_a_stack_template() {
    use pricewatch_core::config::{Environments, SlackChannel, Subscriptions};
    let dir = support::project_dir();
    let project = pricewatch_core::project::Project::load(&dir).expect("project loads");
    let hostile = |what: &str| {
        format!("{what}\"\nConditions:\n\tNever: !Equals [a, b]\n# \\x41 {{{{ env }}}} '")
    };
    let settings = |value: &dyn Fn(&str) -> String| {
        let mut env = Environments::new(&dir).load("dev").expect("dev loads");
        let s = &mut env.settings;
        s.alarms.page = Subscriptions {
            email: vec![value("ops@example.com")],
            https: vec![value("https://hooks.example.com/alarm")],
            chatbot: vec![SlackChannel {
                workspace_id: value("T0123"),
                channel_id: value("C0123"),
            }],
        };
        s.sources.get_mut("products").expect("declared").url =
            value("https://example.com/products.html");
        s.sources.get_mut("vendors").expect("declared").url =
            value("https://example.com/vendors.html");
        s.ingest.state_prefix = value("state/ingest/");
        s.warehouse.database = value("pricewatch");
        s.warehouse.admin_username = value("admin");
        s.warehouse.subnet_ids = vec![value("subnet-0abc")];
        s.warehouse.security_group_ids = vec![value("sg-0abc")];
        env
    };
    let plain = settings(&|v: &str| v.to_string());
    let attacked = settings(&hostile);
    let render = |env: &pricewatch_core::config::Environment| {
        pricewatch_core::bundle::build(&project, env)
            .unwrap_or_else(|e| panic!("{e}"))
            .stacks
    };
    /// The document's shape: every key path, with string leaves elided.
    fn shape(value: &Value, path: &str, out: &mut Vec<String>, strings: &mut Vec<String>) {
        match value {
            Value::Mapping(map) => {
                for (k, v) in map {
                    let key = format!("{path}/{}", k.as_str().unwrap_or("?"));
                    out.push(key.clone());
                    shape(v, &key, out, strings);
                }
            }
            Value::Sequence(items) => {
                for (i, v) in items.iter().enumerate() {
                    shape(v, &format!("{path}[{i}]"), out, strings);
                }
            }
            Value::Tagged(tagged) => {
                out.push(format!("{path}!{}", tagged.tag));
                shape(&tagged.value, path, out, strings);
            }
            Value::String(s) => strings.push(s.clone()),
            _ => {}
        }
    }
    let (clean, dirty) = (render(&plain), render(&attacked));
    let mut seen = Vec::new();
    for (a, b) in clean.iter().zip(&dirty) {
        let parse = |text: &str| -> Value {
            serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", a.name))
        };
        let (mut shape_a, mut shape_b, mut strings_b) = (Vec::new(), Vec::new(), Vec::new());
        shape(&parse(&a.template), "", &mut shape_a, &mut Vec::new());
        shape(&parse(&b.template), "", &mut shape_b, &mut strings_b);
        assert_eq!(shape_a, shape_b, "stack {} changed shape", a.name);
        seen.extend(strings_b);
    }
    for value in [
        hostile("ops@example.com"),
        hostile("https://hooks.example.com/alarm"),
        hostile("T0123"),
        hostile("subnet-0abc"),
        hostile("pricewatch"),
    ] {
        assert!(
            seen.iter().any(|s| s.contains(&value)),
            "{value:?} does not come back whole"
        );
    }
    // A page URL travels in the ingest Lambda's source list, JSON in one
    // YAML string: it comes back whole once that is read as JSON.
    let url = hostile("https://example.com/products.html");
    assert!(
        seen.iter()
            .filter_map(|s| serde_json::from_str::<Vec<serde_json::Value>>(s).ok())
            .flatten()
            .any(|source| source["url"] == url.as_str()),
        "{url:?} does not come back whole"
    );
}
