//! Every integration test in one binary, so the libraries link once. A
//! test that needs a service this machine lacks (PostgreSQL, moto, the
//! browser and the site validators) is listed as ignored, with the reason,
//! instead of passing without running; under `CI` it runs and fails.
//! `scripts/test.sh` installs and provides every service.

mod backfill_local;
mod checks_local;
mod cli;
mod cli_snapshots;
mod dashboard_moto;
mod deploy_moto;
mod faults_moto;
mod gold_figures;
mod incremental;
mod ingest_faults;
mod ingest_moto;
mod lambda_runtime;
mod operate_local;
mod refresh_local;
mod render_snapshots;
mod report_local;
mod security;
mod services;
mod sources_local;
mod sql_apply;
mod support;
mod warehouse_roles;

use libtest_mimic::{Arguments, Failed, Trial};
use support::Need;

/// A test that needs `needs`: ignored when one is missing (outside CI).
fn trial(name: &str, needs: &[Need], test: fn()) -> Trial {
    let missing: Vec<String> = needs.iter().filter_map(|n| n.missing()).collect();
    let ci = std::env::var_os("CI").is_some();
    if !missing.is_empty() && !ci {
        eprintln!("skipped: {name} ({})", missing.join("; "));
        return Trial::test(name, || Ok(())).with_ignored_flag(true);
    }
    Trial::test(name, move || {
        if !missing.is_empty() {
            return Err(Failed::from(format!(
                "required under CI but unavailable: {}",
                missing.join("; ")
            )));
        }
        std::panic::catch_unwind(test).map_err(|panic| {
            Failed::from(
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "the test panicked".into()),
            )
        })
    })
}

fn main() {
    let args = Arguments::from_args();
    let trials = vec![
        trial("cli_snapshots::the_commands_without_services_say_the_same", &[], cli_snapshots::the_commands_without_services_say_the_same),
        trial("cli_snapshots::the_local_env_commands_say_the_same", &[Need::Postgres, Need::Moto], cli_snapshots::the_local_env_commands_say_the_same),
        trial("cli_snapshots::the_deploy_commands_say_the_same", &[Need::Moto], cli_snapshots::the_deploy_commands_say_the_same),
        trial("backfill_local::a_warehouse_rebuilt_from_the_archive_has_the_same_silver_and_gold", &[Need::Postgres, Need::Moto], backfill_local::a_warehouse_rebuilt_from_the_archive_has_the_same_silver_and_gold),
        trial("backfill_local::backfill_refuses_bad_times_and_a_damaged_archive_before_loading", &[Need::Postgres, Need::Moto], backfill_local::backfill_refuses_bad_times_and_a_damaged_archive_before_loading),
        trial("checks_local::clean_data_passes_and_broken_rows_fail_with_junit_and_metrics", &[Need::Postgres, Need::Moto], checks_local::clean_data_passes_and_broken_rows_fail_with_junit_and_metrics),
        trial("checks_local::an_unreachable_warehouse_is_exit_2_and_publishes_nothing", &[Need::Moto], checks_local::an_unreachable_warehouse_is_exit_2_and_publishes_nothing),
        trial("checks_local::every_check_has_an_alarm_and_the_composite_pages_once", &[], checks_local::every_check_has_an_alarm_and_the_composite_pages_once),
        trial("cli::help_names_every_command_in_one_line", &[], cli::help_names_every_command_in_one_line),
        trial("cli::report_rejects_an_out_of_range_link_lifetime_before_anything_runs", &[], cli::report_rejects_an_out_of_range_link_lifetime_before_anything_runs),
        trial("cli::ingest_dry_run_reports_each_page_and_needs_no_aws", &[], cli::ingest_dry_run_reports_each_page_and_needs_no_aws),
        trial("cli::docs_without_a_warehouse_still_writes_a_complete_catalog", &[], cli::docs_without_a_warehouse_still_writes_a_complete_catalog),
        trial("cli::render_is_deterministic_and_complete_for_every_env", &[], cli::render_is_deterministic_and_complete_for_every_env),
        trial("cli::a_new_env_needs_only_a_file", &[], cli::a_new_env_needs_only_a_file),
        trial("cli::bad_config_is_named_by_file_line_and_key", &[], cli::bad_config_is_named_by_file_line_and_key),
        trial("cli::several_config_errors_come_in_one_run", &[], cli::several_config_errors_come_in_one_run),
        trial("cli::unknown_env_is_a_usage_error_listing_the_envs", &[], cli::unknown_env_is_a_usage_error_listing_the_envs),
        trial("cli::missing_env_is_a_usage_error", &[], cli::missing_env_is_a_usage_error),
        trial("cli::validate_all_envs_reports_each_env", &[], cli::validate_all_envs_reports_each_env),
        trial("cli::template_mistakes_are_caught_before_anything_is_written", &[], cli::template_mistakes_are_caught_before_anything_is_written),
        trial("cli::dashboard_mistakes_are_named_by_key_before_any_aws_call", &[], cli::dashboard_mistakes_are_named_by_key_before_any_aws_call),
        trial("cli::a_model_cycle_is_named", &[], cli::a_model_cycle_is_named),
        trial("cli::rendering_into_the_project_itself_is_refused", &[], cli::rendering_into_the_project_itself_is_refused),
        #[cfg(unix)]
        trial("cli::render_never_follows_a_symlinked_folder", &[], cli::render_never_follows_a_symlinked_folder),
        trial("cli::check_gives_up_on_a_warehouse_that_never_answers", &[], cli::check_gives_up_on_a_warehouse_that_never_answers),
        trial("cli::status_gives_up_on_an_aws_endpoint_that_never_answers", &[], cli::status_gives_up_on_an_aws_endpoint_that_never_answers),
        trial("dashboard_moto::publish_creates_once_then_changes_nothing_it_can_compare", &[Need::Moto], dashboard_moto::publish_creates_once_then_changes_nothing_it_can_compare),
        trial("dashboard_moto::the_text_summary_counts_and_refresh_needs_spice", &[Need::Moto], dashboard_moto::the_text_summary_counts_and_refresh_needs_spice),
        trial("dashboard_moto::a_redshift_env_without_its_warehouse_stack_says_to_deploy_first", &[Need::Moto], dashboard_moto::a_redshift_env_without_its_warehouse_stack_says_to_deploy_first),
        trial("deploy_moto::deploy_redeploy_plan_and_destroy_local", &[Need::Moto], deploy_moto::deploy_redeploy_plan_and_destroy_local),
        trial("deploy_moto::plan_on_an_empty_account_reports_changes", &[Need::Moto], deploy_moto::plan_on_an_empty_account_reports_changes),
        trial("deploy_moto::a_failing_stack_exits_1_naming_the_resource_and_reason", &[Need::Moto], deploy_moto::a_failing_stack_exits_1_naming_the_resource_and_reason),
        trial("deploy_moto::bad_config_makes_no_aws_call", &[Need::Moto], deploy_moto::bad_config_makes_no_aws_call),
        trial("deploy_moto::the_wrong_account_is_refused_before_any_change", &[Need::Moto], deploy_moto::the_wrong_account_is_refused_before_any_change),
        trial("faults_moto::cloudformation_throttling_during_a_parallel_deploy_is_retried", &[Need::Moto], faults_moto::cloudformation_throttling_during_a_parallel_deploy_is_retried),
        trial("gold_figures::silver_and_gold_match_figures_computed_from_the_pages", &[Need::Postgres, Need::Moto], gold_figures::silver_and_gold_match_figures_computed_from_the_pages),
        trial("gold_figures::a_held_out_page_keeps_the_mvp_rules_and_loses_no_row", &[Need::Postgres, Need::Moto], gold_figures::a_held_out_page_keeps_the_mvp_rules_and_loses_no_row),
        trial("gold_figures::an_unchanged_page_keeps_ingest_fresh_and_only_warns_that_the_page_is_old", &[Need::Postgres, Need::Moto], gold_figures::an_unchanged_page_keeps_ingest_fresh_and_only_warns_that_the_page_is_old),
        trial("gold_figures::the_hour_can_be_the_nearest_as_in_the_mvp", &[Need::Postgres, Need::Moto], gold_figures::the_hour_can_be_the_nearest_as_in_the_mvp),
        trial("gold_figures::deployed_envs_ingest_the_case_study_pages", &[], gold_figures::deployed_envs_ingest_the_case_study_pages),
        trial("ingest_faults::a_killed_ingest_never_becomes_a_snapshot_and_two_at_once_push_once", &[Need::Postgres, Need::Moto], ingest_faults::a_killed_ingest_never_becomes_a_snapshot_and_two_at_once_push_once),
        trial("ingest_moto::ingest_pushes_each_snapshot_once_and_only_on_change", &[Need::Moto], ingest_moto::ingest_pushes_each_snapshot_once_and_only_on_change),
        trial("ingest_moto::a_failed_delivery_exits_1_and_is_retried_by_the_next_run", &[Need::Moto], ingest_moto::a_failed_delivery_exits_1_and_is_retried_by_the_next_run),
        trial("ingest_moto::a_page_that_is_not_a_price_table_fails_loudly", &[Need::Moto], ingest_moto::a_page_that_is_not_a_price_table_fails_loudly),
        trial("ingest_moto::a_large_archive_object_goes_up_in_parts_and_reads_back_whole", &[Need::Moto], ingest_moto::a_large_archive_object_goes_up_in_parts_and_reads_back_whole),
        trial("lambda_runtime::the_lambda_pushes_a_snapshot_and_reports_failures_through_the_runtime_api", &[Need::Moto, Need::Lambdas], lambda_runtime::the_lambda_pushes_a_snapshot_and_reports_failures_through_the_runtime_api),
        trial("operate_local::run_and_the_operator_lambda_refresh_check_and_fail_when_a_model_fails", &[Need::Postgres, Need::Moto, Need::Lambdas], operate_local::run_and_the_operator_lambda_refresh_check_and_fail_when_a_model_fails),
        trial("refresh_local::ingest_then_refresh_fills_bronze_silver_and_gold", &[Need::Postgres, Need::Moto], refresh_local::ingest_then_refresh_fills_bronze_silver_and_gold),
        trial("refresh_local::poison_cells_are_quarantined_and_the_next_snapshot_still_loads", &[Need::Postgres, Need::Moto], refresh_local::poison_cells_are_quarantined_and_the_next_snapshot_still_loads),
        trial("refresh_local::a_failing_model_skips_its_downstream_and_exits_1", &[Need::Postgres, Need::Moto], refresh_local::a_failing_model_skips_its_downstream_and_exits_1),
        trial("render_snapshots::rendered_files_match_the_snapshots", &[], render_snapshots::rendered_files_match_the_snapshots),
        trial("report_local::the_report_shows_the_gold_models_and_loads_in_a_browser", &[Need::Postgres, Need::Moto, Need::Browser], report_local::the_report_shows_the_gold_models_and_loads_in_a_browser),
        trial("report_local::publishing_uploads_links_by_presigned_urls_and_removes_stale_pages", &[Need::Postgres, Need::Moto], report_local::publishing_uploads_links_by_presigned_urls_and_removes_stale_pages),
        trial("security::iam_is_least_privilege_in_every_env", &[], security::iam_is_least_privilege_in_every_env),
        trial("security::the_least_privilege_rule_catches_wildcards", &[], security::the_least_privilege_rule_catches_wildcards),
        trial("security::everything_that_stores_data_is_encrypted_and_nothing_is_public", &[], security::everything_that_stores_data_is_encrypted_and_nothing_is_public),
        trial("security::the_secret_scanner_finds_planted_secrets", &[], security::the_secret_scanner_finds_planted_secrets),
        trial("security::config_strings_cannot_change_a_stack_template", &[], security::config_strings_cannot_change_a_stack_template),
        trial("security::no_literal_secret_in_config_templates_or_sql", &[], security::no_literal_secret_in_config_templates_or_sql),
        trial("security::checkov_suppressions_are_justified_and_documented", &[], security::checkov_suppressions_are_justified_and_documented),
        trial("security::the_glob_matches_like_iam", &[], security::the_glob_matches_like_iam),
        trial("security::only_the_approved_environment_may_deploy", &[], security::only_the_approved_environment_may_deploy),
        trial("security::the_deploy_check_catches_a_trusting_role", &[], security::the_deploy_check_catches_a_trusting_role),
        trial("security::every_role_the_stacks_create_carries_the_boundary", &[], security::every_role_the_stacks_create_carries_the_boundary),
        trial("security::kms_redshift_and_secrets_reach_only_the_env_itself", &[], security::kms_redshift_and_secrets_reach_only_the_env_itself),
        trial("security::the_scope_check_catches_an_untagged_key_permission", &[], security::the_scope_check_catches_an_untagged_key_permission),
        trial("security::the_ci_roles_map_to_their_database_roles", &[], security::the_ci_roles_map_to_their_database_roles),
        trial("security::every_action_is_pinned_to_a_commit_with_its_version", &[], security::every_action_is_pinned_to_a_commit_with_its_version),
        trial("security::jobs_keep_no_credentials_have_own_permissions_and_never_overlap_on_an_env", &[], security::jobs_keep_no_credentials_have_own_permissions_and_never_overlap_on_an_env),
        trial("security::promotion_waits_for_the_tests_of_the_commit_and_publishes_the_dashboard", &[], security::promotion_waits_for_the_tests_of_the_commit_and_publishes_the_dashboard),
        trial("security::promotion_plans_the_sql_it_applies", &[], security::promotion_plans_the_sql_it_applies),
        trial("security::operate_validates_its_inputs_before_running_anything", &[], security::operate_validates_its_inputs_before_running_anything),
        trial("security::the_github_environment_check_finds_a_way_around_the_approval", &[], security::the_github_environment_check_finds_a_way_around_the_approval),
        trial("security::every_alarm_notifies_a_topic_of_its_severity", &[], security::every_alarm_notifies_a_topic_of_its_severity),
        trial("security::every_kind_of_subscription_reaches_its_topic", &[], security::every_kind_of_subscription_reaches_its_topic),
        trial("security::the_archive_is_private_kept_where_data_is_kept_and_moved_as_configured", &[], security::the_archive_is_private_kept_where_data_is_kept_and_moved_as_configured),
        trial("security::the_ingest_role_may_only_add_objects_under_archive", &[], security::the_ingest_role_may_only_add_objects_under_archive),
        trial("security::the_boundary_and_the_ci_roles_reach_the_archive_as_far_as_needed", &[], security::the_boundary_and_the_ci_roles_reach_the_archive_as_far_as_needed),
        trial("security::the_boundary_allows_every_action_the_stacks_roles_use", &[], security::the_boundary_allows_every_action_the_stacks_roles_use),
        trial("sources_local::a_source_declared_in_defaults_is_streamed_typed_and_quarantined", &[Need::Postgres, Need::Moto], sources_local::a_source_declared_in_defaults_is_streamed_typed_and_quarantined),
        trial("sources_local::ten_more_sources_validate_and_deploy_a_stream_each", &[Need::Moto], sources_local::ten_more_sources_validate_and_deploy_a_stream_each),
        trial("services::postgres_accepts_every_rendered_local_model", &[Need::Postgres], services::postgres_accepts_every_rendered_local_model),
        trial("services::silver_types_and_quarantines_records_on_postgres", &[Need::Postgres], services::silver_types_and_quarantines_records_on_postgres),
        trial("services::held_locks_and_long_statements_end_in_timeouts", &[Need::Postgres], services::held_locks_and_long_statements_end_in_timeouts),
        trial("services::moto_answers_sts_with_the_local_account", &[Need::Moto], services::moto_answers_sts_with_the_local_account),
        trial("incremental::incremental_models_equal_a_rebuild_after_any_snapshot_sequence", &[Need::Postgres], incremental::incremental_models_equal_a_rebuild_after_any_snapshot_sequence),
        trial("incremental::a_refresh_killed_after_rewriting_rows_leaves_model_and_watermark_as_they_were", &[Need::Postgres], incremental::a_refresh_killed_after_rewriting_rows_leaves_model_and_watermark_as_they_were),
        trial("sql_apply::apply_creates_then_changes_only_what_changed", &[Need::Postgres], sql_apply::apply_creates_then_changes_only_what_changed),
        trial("sql_apply::a_redshift_env_without_its_warehouse_stack_says_to_deploy_first", &[Need::Moto], sql_apply::a_redshift_env_without_its_warehouse_stack_says_to_deploy_first),
        trial("sql_apply::an_unreachable_database_is_named_without_its_password", &[], sql_apply::an_unreachable_database_is_named_without_its_password),
        trial("warehouse_roles::each_identity_does_exactly_its_part", &[Need::Postgres, Need::Moto], warehouse_roles::each_identity_does_exactly_its_part),
        trial("warehouse_roles::stream_models_keep_their_history_unless_replacing_them_is_allowed", &[Need::Postgres, Need::Moto], warehouse_roles::stream_models_keep_their_history_unless_replacing_them_is_allowed),
        trial("warehouse_roles::concurrent_runs_take_turns_through_the_lease", &[Need::Postgres, Need::Moto], warehouse_roles::concurrent_runs_take_turns_through_the_lease),
    ];
    libtest_mimic::run(&args, trials).exit();
}
