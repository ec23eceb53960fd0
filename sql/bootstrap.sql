{#- Run by an administrator with `pricewatch sql apply --bootstrap`, after
    pricewatch created whichever of the roles (and, on Redshift, users) were
    missing. Every statement can run again. One owner holds every schema and
    object, so whoever deploys, any operator can refresh afterwards (see
    docs/decisions.md, "Warehouse ownership"). -#}
{% if dialect == "postgres" -%}
-- Deployers act as the owner (sql apply runs SET ROLE {{ roles.owner }}).
GRANT {{ roles.owner }} TO {{ roles.deployer }};
{% else -%}
-- The deploy role's database user is the owner; the role is also granted
-- through its RedshiftDbRoles principal tag.
GRANT ROLE {{ roles.deployer }} TO {{ roles.owner }};
GRANT ROLE {{ roles.reader }} TO {{ roles.quicksight_user }};
{% endif -%}
{% for schema in owned_schemas -%}
CREATE SCHEMA IF NOT EXISTS {{ schema }} AUTHORIZATION {{ roles.owner }};
ALTER SCHEMA {{ schema }} OWNER TO {{ roles.owner }};
GRANT USAGE ON SCHEMA {{ schema }} TO {{ roles.grantee }}{{ roles.operator }};
{% if schema in reader_schemas -%}
GRANT USAGE ON SCHEMA {{ schema }} TO {{ roles.grantee }}{{ roles.reader }};
{% endif -%}
{% endfor -%}
{% if dialect == "redshift" -%}
CREATE EXTERNAL SCHEMA IF NOT EXISTS kinesis
FROM KINESIS
IAM_ROLE '{{ names.streaming_role_arn }}';
-- Streaming views read the stream through it; USAGE on an external schema
-- is granted to users, not roles.
GRANT USAGE ON SCHEMA kinesis TO {{ roles.owner }};
{% else -%}
-- Objects made before the roles existed (by whoever applied them) become
-- the owner's, so deployers can replace them.
DO $$
DECLARE
    object RECORD;
BEGIN
    FOR object IN
        SELECT n.nspname AS schema_name, c.relname AS object_name,
            CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind
        FROM pg_class AS c
        INNER JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname IN ({% for schema in owned_schemas %}'{{ schema }}'{% if not loop.last %}, {% endif %}{% endfor %})
            AND c.relkind IN ('r', 'v', 'm')
            AND pg_get_userbyid(c.relowner) <> '{{ roles.owner }}'
    LOOP
        EXECUTE format('ALTER %s %I.%I OWNER TO {{ roles.owner }}', object.kind, object.schema_name, object.object_name);
    END LOOP;
END
$$;
{% endif -%}
CREATE TABLE IF NOT EXISTS pricewatch_meta.bootstrap (
    checksum VARCHAR(64) NOT NULL,
    applied_at TIMESTAMP NOT NULL
);
ALTER TABLE pricewatch_meta.bootstrap OWNER TO {{ roles.owner }};
