-- Read-only, scoped access for analysts who query synclog's tables on a ClickHouse
-- server directly (docs/analysts.md, "Direct access on a ClickHouse server").
--
-- What it sets up, all idempotent (run it again after an upgrade of this file):
--   * role synclog_analyst: SELECT on synclog's seven tables and nothing else,
--     with the settings profile synclog_analyst_profile (readonly = 1);
--   * one row policy per scoped table (sync_log, sync_log_by_student, sync_runs,
--     sync_counts, sync_outcomes, sync_daily) for that role. The policies are the SQL form of
--     src/clickhouse/scope.ts; each analyst's scope comes from three custom
--     settings that the analyst's own settings profile sets CONST:
--       SQL_synclog_tenant  the tenant (a district's SIS feed); '' sees nothing
--       SQL_synclog_school  '' = the whole tenant (district analyst), else one school id
--       SQL_synclog_side    home | serving | either: which school of a log row
--                           must be that school (anything else sees nothing)
--   * one row policy per table for everyone else (USING 1 TO ALL EXCEPT
--     synclog_analyst), so synclog itself and operators keep reading every row
--     whatever the server's users_without_row_policies_can_read_rows says.
--
-- Needs: the SQL_ custom-settings prefix (<custom_settings_prefixes>SQL_</...>,
-- present in ClickHouse's default config.xml) and ClickHouse 24.10+ (getSettingOrDefault).
-- Run it as a user with access management after synclog has created its tables,
-- e.g. with the docker-compose server:
--   docker compose exec -T clickhouse clickhouse-client --user synclog --password synclog --multiquery < sql/clickhouse-server/analyst-access.sql
-- The database is `synclog`; for another one, replace "synclog." below (sed 's/synclog\./mydb./g').
--
-- test/int/analyst-docs.int.spec.ts reads the USING expressions of the
-- synclog_analyst_scope policies from this file and checks, in chDB, that each one
-- returns exactly the rows the store returns for the same Scope. Keep one policy
-- statement per table, in this form.

-- ---- the role and its settings ------------------------------------------------------------

CREATE SETTINGS PROFILE IF NOT EXISTS synclog_analyst_profile;
ALTER SETTINGS PROFILE synclog_analyst_profile SETTINGS
  readonly = 1,
  session_timezone = 'UTC' CHANGEABLE_IN_READONLY,
  max_execution_time = 120 MIN 1 MAX 900 CHANGEABLE_IN_READONLY;

CREATE ROLE IF NOT EXISTS synclog_analyst;
ALTER ROLE synclog_analyst SETTINGS PROFILE 'synclog_analyst_profile';

REVOKE ALL ON *.* FROM synclog_analyst;
GRANT SELECT ON synclog.sync_log TO synclog_analyst;
GRANT SELECT ON synclog.sync_log_by_student TO synclog_analyst;
GRANT SELECT ON synclog.sync_runs TO synclog_analyst;
GRANT SELECT ON synclog.sync_counts TO synclog_analyst;
GRANT SELECT ON synclog.sync_outcomes TO synclog_analyst;
GRANT SELECT ON synclog.sync_daily TO synclog_analyst;
GRANT SELECT ON synclog.schema_migrations TO synclog_analyst;

-- ---- row policies: the analyst's scope ----------------------------------------------------

-- Log rows of the tenant; with a school, rows whose home school (home), serving
-- school (serving) or either (either) is that school. (scope.ts: logScope)
CREATE ROW POLICY OR REPLACE synclog_analyst_scope ON synclog.sync_log FOR SELECT
  USING tenant = getSettingOrDefault('SQL_synclog_tenant', '')
    AND getSettingOrDefault('SQL_synclog_tenant', '') != ''
    AND (getSettingOrDefault('SQL_synclog_school', '') = ''
      OR (getSettingOrDefault('SQL_synclog_side', '') IN ('home', 'either') AND homeSchoolId = getSettingOrDefault('SQL_synclog_school', ''))
      OR (getSettingOrDefault('SQL_synclog_side', '') IN ('serving', 'either') AND servingSchoolId = getSettingOrDefault('SQL_synclog_school', '')))
  TO synclog_analyst;

-- The log rows that name a student, sorted by student: the same rows, the same scope.
CREATE ROW POLICY OR REPLACE synclog_analyst_scope ON synclog.sync_log_by_student FOR SELECT
  USING tenant = getSettingOrDefault('SQL_synclog_tenant', '')
    AND getSettingOrDefault('SQL_synclog_tenant', '') != ''
    AND (getSettingOrDefault('SQL_synclog_school', '') = ''
      OR (getSettingOrDefault('SQL_synclog_side', '') IN ('home', 'either') AND homeSchoolId = getSettingOrDefault('SQL_synclog_school', ''))
      OR (getSettingOrDefault('SQL_synclog_side', '') IN ('serving', 'either') AND servingSchoolId = getSettingOrDefault('SQL_synclog_school', '')))
  TO synclog_analyst;

-- A school sees its tenant's sync history. (scope.ts: runsScope)
CREATE ROW POLICY OR REPLACE synclog_analyst_scope ON synclog.sync_runs FOR SELECT
  USING tenant = getSettingOrDefault('SQL_synclog_tenant', '')
    AND getSettingOrDefault('SQL_synclog_tenant', '') != ''
    AND (getSettingOrDefault('SQL_synclog_school', '') = ''
      OR getSettingOrDefault('SQL_synclog_side', '') IN ('home', 'serving', 'either'))
  TO synclog_analyst;

-- Counts of the records counted under the school, whatever the side. (scope.ts: countsScope)
CREATE ROW POLICY OR REPLACE synclog_analyst_scope ON synclog.sync_counts FOR SELECT
  USING tenant = getSettingOrDefault('SQL_synclog_tenant', '')
    AND getSettingOrDefault('SQL_synclog_tenant', '') != ''
    AND (getSettingOrDefault('SQL_synclog_school', '') = ''
      OR (getSettingOrDefault('SQL_synclog_side', '') IN ('home', 'serving', 'either') AND schoolId = getSettingOrDefault('SQL_synclog_school', '')))
  TO synclog_analyst;

-- The same cells as sync_counts, one row per outcome. (scope.ts: countsScope)
CREATE ROW POLICY OR REPLACE synclog_analyst_scope ON synclog.sync_outcomes FOR SELECT
  USING tenant = getSettingOrDefault('SQL_synclog_tenant', '')
    AND getSettingOrDefault('SQL_synclog_tenant', '') != ''
    AND (getSettingOrDefault('SQL_synclog_school', '') = ''
      OR (getSettingOrDefault('SQL_synclog_side', '') IN ('home', 'serving', 'either') AND schoolId = getSettingOrDefault('SQL_synclog_school', '')))
  TO synclog_analyst;

-- A sync_daily row holds every school of its tenant, app and day inside one
-- aggregate state, which a row policy cannot filter: district analysts only.
-- School analysts read their daily numbers from sync_counts (docs/analysts.md).
CREATE ROW POLICY OR REPLACE synclog_analyst_scope ON synclog.sync_daily FOR SELECT
  USING tenant = getSettingOrDefault('SQL_synclog_tenant', '')
    AND getSettingOrDefault('SQL_synclog_tenant', '') != ''
    AND getSettingOrDefault('SQL_synclog_school', '') = ''
  TO synclog_analyst;

-- ---- row policies: everyone else reads every row ------------------------------------------

CREATE ROW POLICY OR REPLACE synclog_unrestricted ON synclog.sync_log FOR SELECT USING 1 TO ALL EXCEPT synclog_analyst;
CREATE ROW POLICY OR REPLACE synclog_unrestricted ON synclog.sync_log_by_student FOR SELECT USING 1 TO ALL EXCEPT synclog_analyst;
CREATE ROW POLICY OR REPLACE synclog_unrestricted ON synclog.sync_runs FOR SELECT USING 1 TO ALL EXCEPT synclog_analyst;
CREATE ROW POLICY OR REPLACE synclog_unrestricted ON synclog.sync_counts FOR SELECT USING 1 TO ALL EXCEPT synclog_analyst;
CREATE ROW POLICY OR REPLACE synclog_unrestricted ON synclog.sync_outcomes FOR SELECT USING 1 TO ALL EXCEPT synclog_analyst;
CREATE ROW POLICY OR REPLACE synclog_unrestricted ON synclog.sync_daily FOR SELECT USING 1 TO ALL EXCEPT synclog_analyst;

-- ---- analysts (examples; run one block per analyst, with a real password) -----------------
--
-- A district analyst of tenant 'emerson': every row of that tenant.
--
--   CREATE SETTINGS PROFILE IF NOT EXISTS synclog_scope_emerson SETTINGS INHERIT 'synclog_analyst_profile',
--     SQL_synclog_tenant = 'emerson' CONST, SQL_synclog_school = '' CONST, SQL_synclog_side = 'either' CONST;
--   CREATE USER IF NOT EXISTS emerson_district_analyst IDENTIFIED WITH sha256_password BY 'replace-me'
--     SETTINGS PROFILE 'synclog_scope_emerson';
--   GRANT synclog_analyst TO emerson_district_analyst;
--
-- A school analyst at Lincoln Park High School ('sch-lincoln-hs') of tenant
-- 'emerson': log rows where it is the home or the serving school; counts and
-- drill-down cells of the records counted under it; the tenant's sync history.
--
--   CREATE SETTINGS PROFILE IF NOT EXISTS synclog_scope_emerson_lincoln_hs SETTINGS INHERIT 'synclog_analyst_profile',
--     SQL_synclog_tenant = 'emerson' CONST, SQL_synclog_school = 'sch-lincoln-hs' CONST, SQL_synclog_side = 'either' CONST;
--   CREATE USER IF NOT EXISTS lincoln_hs_analyst IDENTIFIED WITH sha256_password BY 'replace-me'
--     SETTINGS PROFILE 'synclog_scope_emerson_lincoln_hs';
--   GRANT synclog_analyst TO lincoln_hs_analyst;
