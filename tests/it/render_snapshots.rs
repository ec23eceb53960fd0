//! Pins every rendered file of every shipped env. A change to a template,
//! a model or an env file shows up here as a reviewable diff; accept it with
//! `INSTA_UPDATE=always cargo test --test render_snapshots` (or cargo insta).

use crate::support;

pub(crate) fn rendered_files_match_the_snapshots() {
    for env in ["dev", "test", "prod", "local"] {
        let (files, manifest) = support::bundle(env).files();
        for (path, content) in files {
            insta::assert_snapshot!(format!("{env}__{}", path.replace('/', "__")), content);
        }
        let manifest = serde_json::to_string_pretty(&manifest).unwrap();
        insta::assert_snapshot!(format!("{env}__manifest.json"), manifest);
    }
}
