//! [`QuickSight`] on the SDK: data source, data sets, dashboard (the
//! definition model turned into QuickSight's visual types), permissions and
//! SPICE ingestions, all in the env's account.

use aws_sdk_quicksight::config::http::HttpResponse;
use aws_sdk_quicksight::error::{BuildError, SdkError};
use aws_sdk_quicksight::types as qs;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::classify;
use pricewatch_core::cloud::{AwsError, AwsErrorKind, AwsResult};
use pricewatch_core::dashboard::definition::{Aggregation, ColumnType, Orientation, Visual};
use pricewatch_core::dashboard::quicksight::{
    Asset, Connection, DashboardSpec, DashboardState, DataSetShape, DataSetSpec, DataSourceShape,
    DataSourceSpec, ImportMode, IngestionState, PermissionChanges, Permissions, QuickSight,
};
use pricewatch_core::dashboard::spec::version_description;

/// The key of the one physical table in every pricewatch data set.
const TABLE_KEY: &str = "model";

#[derive(Clone)]
pub struct QuickSightApi {
    client: aws_sdk_quicksight::Client,
    account_id: String,
}

impl QuickSightApi {
    pub fn new(client: aws_sdk_quicksight::Client, account_id: &str) -> QuickSightApi {
        QuickSightApi {
            client,
            account_id: account_id.to_string(),
        }
    }
}

/// Like [`classify`], and names moto's missing operations: an answer
/// without an error code and a 404/501 status means the endpoint does not
/// implement the call (real QuickSight always sends a code).
fn fail<E>(operation: &str, error: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let unrouted = error.code().is_none()
        && error
            .raw_response()
            .is_some_and(|r| matches!(r.status().as_u16(), 404 | 501));
    if unrouted {
        return AwsError::new(
            operation,
            AwsErrorKind::Unsupported,
            format!("the endpoint does not implement {operation}"),
        );
    }
    classify(operation, error)
}

/// Describes answer "not found" as an error; here it is `None`.
fn found<T>(result: Result<T, AwsError>) -> AwsResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind == AwsErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn built<T>(what: &str, result: Result<T, BuildError>) -> AwsResult<T> {
    result.map_err(|e| AwsError::new(what, AwsErrorKind::Invalid, e.to_string()))
}

fn resource_permissions(
    permissions: &Permissions,
) -> AwsResult<Option<Vec<qs::ResourcePermission>>> {
    if permissions.is_empty() {
        return Ok(None);
    }
    permissions
        .iter()
        .map(|(principal, actions)| {
            built(
                "quicksight permissions",
                qs::ResourcePermission::builder()
                    .principal(principal)
                    .set_actions(Some(actions.iter().cloned().collect()))
                    .build(),
            )
        })
        .collect::<AwsResult<Vec<_>>>()
        .map(Some)
}

fn permissions_of(list: &[qs::ResourcePermission]) -> Permissions {
    list.iter()
        .map(|p| {
            (
                p.principal().to_string(),
                p.actions().iter().cloned().collect(),
            )
        })
        .collect()
}

fn data_source_parameters(connection: &Connection) -> AwsResult<qs::DataSourceParameters> {
    Ok(match connection {
        Connection::Redshift {
            host,
            port,
            database,
            ..
        } => qs::DataSourceParameters::RedshiftParameters(built(
            "quicksight data source",
            qs::RedshiftParameters::builder()
                .host(host)
                .port(*port)
                .database(database)
                .build(),
        )?),
        Connection::Postgres {
            host,
            port,
            database,
        } => qs::DataSourceParameters::PostgreSqlParameters(built(
            "quicksight data source",
            qs::PostgreSqlParameters::builder()
                .host(host)
                .port(*port)
                .database(database)
                .build(),
        )?),
    })
}

fn vpc_connection(connection: &Connection) -> AwsResult<Option<qs::VpcConnectionProperties>> {
    match connection {
        Connection::Redshift {
            vpc_connection_arn, ..
        } => built(
            "quicksight data source",
            qs::VpcConnectionProperties::builder()
                .vpc_connection_arn(vpc_connection_arn)
                .build(),
        )
        .map(Some),
        Connection::Postgres { .. } => Ok(None),
    }
}

fn credentials(spec: &DataSourceSpec) -> Option<qs::DataSourceCredentials> {
    spec.secret_arn
        .as_ref()
        .map(|arn| qs::DataSourceCredentials::builder().secret_arn(arn).build())
}

fn shape_of_data_source(source: &qs::DataSource) -> Option<DataSourceShape> {
    let vpc_connection_arn = source
        .vpc_connection_properties()
        .map(|v| v.vpc_connection_arn().to_string())
        .unwrap_or_default();
    let connection = match source.data_source_parameters()? {
        qs::DataSourceParameters::RedshiftParameters(p) => Connection::Redshift {
            host: p.host().unwrap_or_default().to_string(),
            port: p.port(),
            database: p.database().to_string(),
            vpc_connection_arn,
        },
        qs::DataSourceParameters::PostgreSqlParameters(p) => Connection::Postgres {
            host: p.host().to_string(),
            port: p.port(),
            database: p.database().to_string(),
        },
        // Another engine: a shape that differs from any desired one.
        _ => return None,
    };
    Some(DataSourceShape {
        name: source.name().unwrap_or_default().to_string(),
        connection,
    })
}

fn column_type(kind: ColumnType) -> qs::InputColumnDataType {
    match kind {
        ColumnType::String => qs::InputColumnDataType::String,
        ColumnType::Integer => qs::InputColumnDataType::Integer,
        ColumnType::Decimal => qs::InputColumnDataType::Decimal,
        ColumnType::Datetime => qs::InputColumnDataType::Datetime,
        ColumnType::Boolean => qs::InputColumnDataType::Boolean,
    }
}

fn column_kind(kind: &qs::InputColumnDataType) -> Option<ColumnType> {
    Some(match kind {
        qs::InputColumnDataType::String => ColumnType::String,
        qs::InputColumnDataType::Integer => ColumnType::Integer,
        qs::InputColumnDataType::Decimal => ColumnType::Decimal,
        qs::InputColumnDataType::Datetime => ColumnType::Datetime,
        qs::InputColumnDataType::Boolean => ColumnType::Boolean,
        _ => return None,
    })
}

fn import_mode(mode: ImportMode) -> qs::DataSetImportMode {
    match mode {
        ImportMode::DirectQuery => qs::DataSetImportMode::DirectQuery,
        ImportMode::Spice => qs::DataSetImportMode::Spice,
    }
}

fn physical_table(shape: &DataSetShape) -> AwsResult<qs::PhysicalTable> {
    let columns = shape
        .columns
        .iter()
        .map(|(name, kind)| {
            built(
                "quicksight data set",
                qs::InputColumn::builder()
                    .name(name)
                    .r#type(column_type(*kind))
                    .build(),
            )
        })
        .collect::<AwsResult<Vec<_>>>()?;
    Ok(qs::PhysicalTable::RelationalTable(built(
        "quicksight data set",
        qs::RelationalTable::builder()
            .data_source_arn(&shape.data_source_arn)
            .schema(&shape.schema)
            .name(&shape.table)
            .set_input_columns(Some(columns))
            .build(),
    )?))
}

fn shape_of_data_set(data_set: &qs::DataSet) -> Option<DataSetShape> {
    let table = data_set
        .physical_table_map()?
        .values()
        .find_map(|t| match t {
            qs::PhysicalTable::RelationalTable(t) => Some(t),
            _ => None,
        })?;
    Some(DataSetShape {
        name: data_set.name().unwrap_or_default().to_string(),
        import_mode: match data_set.import_mode()? {
            qs::DataSetImportMode::Spice => ImportMode::Spice,
            _ => ImportMode::DirectQuery,
        },
        data_source_arn: table.data_source_arn().to_string(),
        schema: table.schema().unwrap_or_default().to_string(),
        table: table.name().to_string(),
        columns: table
            .input_columns()
            .iter()
            .filter_map(|c| Some((c.name().to_string(), column_kind(c.r#type())?)))
            .collect(),
    })
}

/// The definition model as QuickSight's dashboard definition.
fn definition(spec: &DashboardSpec) -> AwsResult<qs::DashboardVersionDefinition> {
    let what = "quicksight dashboard definition";
    let declarations = spec
        .data_set_arns
        .iter()
        .map(|(key, arn)| {
            built(
                what,
                qs::DataSetIdentifierDeclaration::builder()
                    .identifier(key)
                    .data_set_arn(arn)
                    .build(),
            )
        })
        .collect::<AwsResult<Vec<_>>>()?;
    let mut sheets = Vec::new();
    for sheet in &spec.definition.sheets {
        let visuals = sheet
            .visuals
            .iter()
            .map(|v| visual(spec, v))
            .collect::<AwsResult<Vec<_>>>()?;
        sheets.push(built(
            what,
            qs::SheetDefinition::builder()
                .sheet_id(&sheet.id)
                .name(&sheet.title)
                .title(&sheet.title)
                .set_visuals(Some(visuals))
                .build(),
        )?);
    }
    built(
        what,
        qs::DashboardVersionDefinition::builder()
            .set_data_set_identifier_declarations(Some(declarations))
            .set_sheets(Some(sheets))
            .build(),
    )
}

fn column(data_set: &str, name: &str) -> AwsResult<qs::ColumnIdentifier> {
    built(
        "quicksight dashboard definition",
        qs::ColumnIdentifier::builder()
            .data_set_identifier(data_set)
            .column_name(name)
            .build(),
    )
}

/// A field id unique in the dashboard: visual id + role.
fn field_id(visual: &str, role: &str) -> String {
    format!("{visual}.{role}")
}

fn category(
    spec: &DashboardSpec,
    visual: &str,
    data_set: &str,
    role: &str,
    name: &str,
) -> AwsResult<qs::DimensionField> {
    let what = "quicksight dashboard definition";
    let is_date = spec
        .definition
        .data_set(data_set)
        .and_then(|d| d.columns.iter().find(|c| c.name == name))
        .is_some_and(|c| c.kind == ColumnType::Datetime);
    let id = field_id(visual, role);
    Ok(if is_date {
        qs::DimensionField::builder()
            .date_dimension_field(built(
                what,
                qs::DateDimensionField::builder()
                    .field_id(id)
                    .column(column(data_set, name)?)
                    .date_granularity(qs::TimeGranularity::Hour)
                    .build(),
            )?)
            .build()
    } else {
        qs::DimensionField::builder()
            .categorical_dimension_field(built(
                what,
                qs::CategoricalDimensionField::builder()
                    .field_id(id)
                    .column(column(data_set, name)?)
                    .build(),
            )?)
            .build()
    })
}

fn measure(
    visual: &str,
    data_set: &str,
    name: &str,
    aggregation: Aggregation,
) -> AwsResult<qs::MeasureField> {
    let what = "quicksight dashboard definition";
    let id = field_id(visual, "value");
    if aggregation == Aggregation::Count {
        return Ok(qs::MeasureField::builder()
            .categorical_measure_field(built(
                what,
                qs::CategoricalMeasureField::builder()
                    .field_id(id)
                    .column(column(data_set, name)?)
                    .aggregation_function(qs::CategoricalAggregationFunction::Count)
                    .build(),
            )?)
            .build());
    }
    let function = match aggregation {
        Aggregation::Sum => qs::SimpleNumericalAggregationFunction::Sum,
        Aggregation::Average => qs::SimpleNumericalAggregationFunction::Average,
        Aggregation::Min => qs::SimpleNumericalAggregationFunction::Min,
        Aggregation::Max => qs::SimpleNumericalAggregationFunction::Max,
        Aggregation::Count => unreachable!("handled above"),
    };
    Ok(qs::MeasureField::builder()
        .numerical_measure_field(built(
            what,
            qs::NumericalMeasureField::builder()
                .field_id(id)
                .column(column(data_set, name)?)
                .aggregation_function(
                    qs::NumericalAggregationFunction::builder()
                        .simple_numerical_aggregation(function)
                        .build(),
                )
                .build(),
        )?)
        .build())
}

fn title(text: &str) -> qs::VisualTitleLabelOptions {
    qs::VisualTitleLabelOptions::builder()
        .visibility(qs::Visibility::Visible)
        .format_text(qs::ShortFormatText::builder().plain_text(text).build())
        .build()
}

fn visual(spec: &DashboardSpec, visual: &Visual) -> AwsResult<qs::Visual> {
    let what = "quicksight dashboard definition";
    let id = visual.id();
    let data_set = visual.data_set();
    let series = |series: &Option<String>| -> AwsResult<Option<Vec<qs::DimensionField>>> {
        series
            .as_ref()
            .map(|s| category(spec, id, data_set, "series", s).map(|c| vec![c]))
            .transpose()
    };
    Ok(match visual {
        Visual::Line {
            x,
            value,
            aggregation,
            series: by,
            ..
        } => {
            let wells = qs::LineChartAggregatedFieldWells::builder()
                .category(category(spec, id, data_set, "x", x)?)
                .values(measure(id, data_set, value, *aggregation)?)
                .set_colors(series(by)?)
                .build();
            let chart = qs::LineChartVisual::builder()
                .visual_id(id)
                .title(title(visual.title()))
                .visual_content_alt_text(visual.title())
                .chart_configuration(
                    qs::LineChartConfiguration::builder()
                        .field_wells(
                            qs::LineChartFieldWells::builder()
                                .line_chart_aggregated_field_wells(wells)
                                .build(),
                        )
                        .build(),
                )
                .build();
            qs::Visual::builder()
                .line_chart_visual(built(what, chart)?)
                .build()
        }
        Visual::Bar {
            category: by_category,
            value,
            aggregation,
            series: by,
            orientation,
            ..
        } => {
            let wells = qs::BarChartAggregatedFieldWells::builder()
                .category(category(spec, id, data_set, "category", by_category)?)
                .values(measure(id, data_set, value, *aggregation)?)
                .set_colors(series(by)?)
                .build();
            let chart = qs::BarChartVisual::builder()
                .visual_id(id)
                .title(title(visual.title()))
                .visual_content_alt_text(visual.title())
                .chart_configuration(
                    qs::BarChartConfiguration::builder()
                        .field_wells(
                            qs::BarChartFieldWells::builder()
                                .bar_chart_aggregated_field_wells(wells)
                                .build(),
                        )
                        .orientation(match orientation {
                            Orientation::Horizontal => qs::BarChartOrientation::Horizontal,
                            Orientation::Vertical => qs::BarChartOrientation::Vertical,
                        })
                        .bars_arrangement(qs::BarsArrangement::Stacked)
                        .build(),
                )
                .build();
            qs::Visual::builder()
                .bar_chart_visual(built(what, chart)?)
                .build()
        }
        Visual::Table { columns, .. } => {
            let fields = columns
                .iter()
                .map(|name| {
                    built(
                        what,
                        qs::UnaggregatedField::builder()
                            .field_id(field_id(id, name))
                            .column(column(data_set, name)?)
                            .build(),
                    )
                })
                .collect::<AwsResult<Vec<_>>>()?;
            let table = qs::TableVisual::builder()
                .visual_id(id)
                .title(title(visual.title()))
                .visual_content_alt_text(visual.title())
                .chart_configuration(
                    qs::TableConfiguration::builder()
                        .field_wells(
                            qs::TableFieldWells::builder()
                                .table_unaggregated_field_wells(
                                    qs::TableUnaggregatedFieldWells::builder()
                                        .set_values(Some(fields))
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build();
            qs::Visual::builder()
                .table_visual(built(what, table)?)
                .build()
        }
    })
}

/// QuickSight's error type and message as one line: `TYPE: message`.
fn error_text(kind: Option<&str>, message: Option<&str>) -> String {
    format!(
        "{}: {}",
        kind.unwrap_or("ERROR"),
        message.unwrap_or_default()
    )
}

/// `.../dashboard/<id>/version/<n>` → n.
fn version_number(version_arn: Option<&str>) -> AwsResult<i64> {
    version_arn
        .and_then(|arn| arn.rsplit('/').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            AwsError::new(
                "quicksight dashboard",
                AwsErrorKind::Other,
                format!("QuickSight returned no version number (version ARN {version_arn:?})"),
            )
        })
}

impl QuickSight for QuickSightApi {
    async fn describe_data_source(&self, id: &str) -> AwsResult<Option<DataSourceShape>> {
        let op = "quicksight:DescribeDataSource";
        let output = found(
            self.client
                .describe_data_source()
                .aws_account_id(&self.account_id)
                .data_source_id(id)
                .send()
                .await
                .map_err(|e| fail(op, e)),
        )?;
        Ok(output.and_then(|o| {
            o.data_source().map(|source| {
                // An engine pricewatch does not manage: a name nobody wants, so it differs.
                shape_of_data_source(source).unwrap_or(DataSourceShape {
                    name: String::new(),
                    connection: Connection::Postgres {
                        host: String::new(),
                        port: 0,
                        database: String::new(),
                    },
                })
            })
        }))
    }

    async fn create_data_source(
        &self,
        spec: &DataSourceSpec,
        permissions: &Permissions,
    ) -> AwsResult<()> {
        let connection = &spec.shape.connection;
        self.client
            .create_data_source()
            .aws_account_id(&self.account_id)
            .data_source_id(&spec.id)
            .name(&spec.shape.name)
            .r#type(match connection {
                Connection::Redshift { .. } => qs::DataSourceType::Redshift,
                Connection::Postgres { .. } => qs::DataSourceType::Postgresql,
            })
            .data_source_parameters(data_source_parameters(connection)?)
            .set_credentials(credentials(spec))
            .set_vpc_connection_properties(vpc_connection(connection)?)
            .set_permissions(resource_permissions(permissions)?)
            .send()
            .await
            .map_err(|e| fail("quicksight:CreateDataSource", e))?;
        Ok(())
    }

    async fn update_data_source(&self, spec: &DataSourceSpec) -> AwsResult<()> {
        let connection = &spec.shape.connection;
        self.client
            .update_data_source()
            .aws_account_id(&self.account_id)
            .data_source_id(&spec.id)
            .name(&spec.shape.name)
            .data_source_parameters(data_source_parameters(connection)?)
            .set_credentials(credentials(spec))
            .set_vpc_connection_properties(vpc_connection(connection)?)
            .send()
            .await
            .map_err(|e| fail("quicksight:UpdateDataSource", e))?;
        Ok(())
    }

    async fn describe_data_set(&self, id: &str) -> AwsResult<Option<DataSetShape>> {
        let output = found(
            self.client
                .describe_data_set()
                .aws_account_id(&self.account_id)
                .data_set_id(id)
                .send()
                .await
                .map_err(|e| fail("quicksight:DescribeDataSet", e)),
        )?;
        Ok(output.and_then(|o| {
            o.data_set().map(|d| {
                // A data set pricewatch cannot read back: differs, so it is rewritten.
                shape_of_data_set(d).unwrap_or(DataSetShape {
                    name: String::new(),
                    import_mode: ImportMode::DirectQuery,
                    data_source_arn: String::new(),
                    schema: String::new(),
                    table: String::new(),
                    columns: vec![],
                })
            })
        }))
    }

    async fn create_data_set(
        &self,
        spec: &DataSetSpec,
        permissions: &Permissions,
    ) -> AwsResult<()> {
        self.client
            .create_data_set()
            .aws_account_id(&self.account_id)
            .data_set_id(&spec.id)
            .name(&spec.shape.name)
            .import_mode(import_mode(spec.shape.import_mode))
            .physical_table_map(TABLE_KEY, physical_table(&spec.shape)?)
            .set_permissions(resource_permissions(permissions)?)
            .send()
            .await
            .map_err(|e| fail("quicksight:CreateDataSet", e))?;
        Ok(())
    }

    async fn update_data_set(&self, spec: &DataSetSpec) -> AwsResult<()> {
        self.client
            .update_data_set()
            .aws_account_id(&self.account_id)
            .data_set_id(&spec.id)
            .name(&spec.shape.name)
            .import_mode(import_mode(spec.shape.import_mode))
            .physical_table_map(TABLE_KEY, physical_table(&spec.shape)?)
            .send()
            .await
            .map_err(|e| fail("quicksight:UpdateDataSet", e))?;
        Ok(())
    }

    async fn describe_dashboard(
        &self,
        id: &str,
        version: Option<i64>,
    ) -> AwsResult<Option<DashboardState>> {
        let output = found(
            self.client
                .describe_dashboard()
                .aws_account_id(&self.account_id)
                .dashboard_id(id)
                .set_version_number(version)
                .send()
                .await
                .map_err(|e| fail("quicksight:DescribeDashboard", e)),
        )?;
        Ok(output.and_then(|o| {
            let dashboard = o.dashboard()?;
            let v = dashboard.version();
            Some(DashboardState {
                name: dashboard.name().unwrap_or_default().to_string(),
                version: v.and_then(|v| v.version_number()).unwrap_or_default(),
                status: v
                    .and_then(|v| v.status())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                description: v.and_then(|v| v.description()).map(str::to_string),
                errors: v
                    .map(|v| v.errors())
                    .unwrap_or_default()
                    .iter()
                    .map(|e| error_text(e.r#type().map(|t| t.as_str()), e.message()))
                    .collect(),
            })
        }))
    }

    async fn create_dashboard(
        &self,
        spec: &DashboardSpec,
        permissions: &Permissions,
    ) -> AwsResult<i64> {
        let output = self
            .client
            .create_dashboard()
            .aws_account_id(&self.account_id)
            .dashboard_id(&spec.id)
            .name(&spec.name)
            .definition(definition(spec)?)
            .version_description(version_description(&spec.fingerprint))
            .set_permissions(resource_permissions(permissions)?)
            .send()
            .await
            .map_err(|e| fail("quicksight:CreateDashboard", e))?;
        version_number(output.version_arn())
    }

    async fn update_dashboard(&self, spec: &DashboardSpec) -> AwsResult<i64> {
        let output = self
            .client
            .update_dashboard()
            .aws_account_id(&self.account_id)
            .dashboard_id(&spec.id)
            .name(&spec.name)
            .definition(definition(spec)?)
            .version_description(version_description(&spec.fingerprint))
            .send()
            .await
            .map_err(|e| fail("quicksight:UpdateDashboard", e))?;
        version_number(output.version_arn())
    }

    async fn publish_dashboard_version(&self, id: &str, version: i64) -> AwsResult<()> {
        self.client
            .update_dashboard_published_version()
            .aws_account_id(&self.account_id)
            .dashboard_id(id)
            .version_number(version)
            .send()
            .await
            .map_err(|e| fail("quicksight:UpdateDashboardPublishedVersion", e))?;
        Ok(())
    }

    async fn permissions(&self, asset: Asset<'_>) -> AwsResult<Permissions> {
        let list = match asset {
            Asset::DataSource(id) => self
                .client
                .describe_data_source_permissions()
                .aws_account_id(&self.account_id)
                .data_source_id(id)
                .send()
                .await
                .map_err(|e| fail("quicksight:DescribeDataSourcePermissions", e))?
                .permissions
                .unwrap_or_default(),
            Asset::DataSet(id) => self
                .client
                .describe_data_set_permissions()
                .aws_account_id(&self.account_id)
                .data_set_id(id)
                .send()
                .await
                .map_err(|e| fail("quicksight:DescribeDataSetPermissions", e))?
                .permissions
                .unwrap_or_default(),
            Asset::Dashboard(id) => self
                .client
                .describe_dashboard_permissions()
                .aws_account_id(&self.account_id)
                .dashboard_id(id)
                .send()
                .await
                .map_err(|e| fail("quicksight:DescribeDashboardPermissions", e))?
                .permissions
                .unwrap_or_default(),
        };
        Ok(permissions_of(&list))
    }

    async fn update_permissions(
        &self,
        asset: Asset<'_>,
        changes: &PermissionChanges,
    ) -> AwsResult<()> {
        let grant = resource_permissions(&changes.grant)?;
        let revoke = resource_permissions(&changes.revoke)?;
        match asset {
            Asset::DataSource(id) => {
                self.client
                    .update_data_source_permissions()
                    .aws_account_id(&self.account_id)
                    .data_source_id(id)
                    .set_grant_permissions(grant)
                    .set_revoke_permissions(revoke)
                    .send()
                    .await
                    .map_err(|e| fail("quicksight:UpdateDataSourcePermissions", e))?;
            }
            Asset::DataSet(id) => {
                self.client
                    .update_data_set_permissions()
                    .aws_account_id(&self.account_id)
                    .data_set_id(id)
                    .set_grant_permissions(grant)
                    .set_revoke_permissions(revoke)
                    .send()
                    .await
                    .map_err(|e| fail("quicksight:UpdateDataSetPermissions", e))?;
            }
            Asset::Dashboard(id) => {
                self.client
                    .update_dashboard_permissions()
                    .aws_account_id(&self.account_id)
                    .dashboard_id(id)
                    .set_grant_permissions(grant)
                    .set_revoke_permissions(revoke)
                    .send()
                    .await
                    .map_err(|e| fail("quicksight:UpdateDashboardPermissions", e))?;
            }
        }
        Ok(())
    }

    async fn create_ingestion(&self, data_set_id: &str, ingestion_id: &str) -> AwsResult<()> {
        self.client
            .create_ingestion()
            .aws_account_id(&self.account_id)
            .data_set_id(data_set_id)
            .ingestion_id(ingestion_id)
            .ingestion_type(qs::IngestionType::FullRefresh)
            .send()
            .await
            .map_err(|e| fail("quicksight:CreateIngestion", e))?;
        Ok(())
    }

    async fn describe_ingestion(
        &self,
        data_set_id: &str,
        ingestion_id: &str,
    ) -> AwsResult<IngestionState> {
        let op = "quicksight:DescribeIngestion";
        let output = self
            .client
            .describe_ingestion()
            .aws_account_id(&self.account_id)
            .data_set_id(data_set_id)
            .ingestion_id(ingestion_id)
            .send()
            .await
            .map_err(|e| fail(op, e))?;
        let ingestion = output.ingestion().ok_or_else(|| {
            AwsError::new(op, AwsErrorKind::Other, "QuickSight returned no ingestion")
        })?;
        Ok(IngestionState {
            status: ingestion.ingestion_status().as_str().to_string(),
            error: ingestion
                .error_info()
                .map(|e| error_text(e.r#type().map(|t| t.as_str()), e.message())),
            rows_ingested: ingestion.row_info().and_then(|r| r.rows_ingested()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_numbers_come_from_the_version_arn() {
        assert_eq!(
            version_number(Some(
                "arn:aws:quicksight:us-east-1:123456789012:dashboard/d/version/7"
            ))
            .unwrap(),
            7
        );
        assert!(version_number(None).is_err());
    }

    #[test]
    fn the_rendered_definition_of_every_env_builds_into_quicksight_types() {
        let project = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let envs = pricewatch_core::config::Environments::new(project);
        for name in envs.list().unwrap() {
            let env = envs.load(&name).unwrap();
            let bundle = pricewatch_core::bundle::load(project, &env).unwrap();
            let desired = pricewatch_core::dashboard::spec::desired(
                &env,
                &bundle.dashboard,
                Connection::Postgres {
                    host: "h".into(),
                    port: 1,
                    database: "d".into(),
                },
                None,
            );
            let built = definition(&desired.dashboard).unwrap();
            let visuals: usize = built.sheets().iter().map(|s| s.visuals().len()).sum();
            let declared: usize = bundle
                .dashboard
                .sheets
                .iter()
                .map(|s| s.visuals.len())
                .sum();
            assert_eq!(visuals, declared, "env {name}");
            assert_eq!(
                built.data_set_identifier_declarations().len(),
                bundle.dashboard.data_sets.len()
            );
        }
    }
}
