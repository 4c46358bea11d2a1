//! Every SQL statement the console runs, in one place: the worker executes them (a
//! search through [`run_search`], in two steps), the
//! search language ([`super::search`]) gives the conditions and bound values they
//! embed. User text only ever reaches them as parameters or quoted identifiers.

use super::protocol::{QueueSpec, SortKey, QUEUE_LIMIT};
use super::search::{self, ident, Search, Target};
use crate::store::{QueryError, QueryResult, Reader, SqlValue};

/// The names of the alerts view's columns (which optional ones it has).
pub const ALERT_COLUMN_NAMES: &str = "SELECT column_name FROM (DESCRIBE alerts)";
/// One alert's newest row; bound: the alert id.
pub const ALERT_BY_ID: &str = "SELECT * FROM alerts WHERE alert_id = ? LIMIT 1";
/// One event; bound: its guid.
pub const EVENT_BY_GUID: &str = "SELECT * FROM events WHERE guid = ? LIMIT 1";
/// An alert's triage history, oldest first; bound: the alert id.
pub const TRIAGE_HISTORY: &str = "SELECT \"timestamp\", who, status, comment, assignee, meta_alert FROM triage \
     WHERE alert_id = ? ORDER BY \"timestamp\", action_id";
/// The other alerts of a meta-alert; bound: the meta-alert, the alert shown.
pub const META_ALERT_GROUP: &str =
    "SELECT alert_id FROM alerts WHERE meta_alert = ? AND alert_id <> ? ORDER BY alert_id LIMIT 50";
/// Saved searches (newest of each name) and recent ones (newest of each query).
pub const SEARCH_LIST: &str = "SELECT kind, name, query, who, \"timestamp\" FROM (\
       SELECT *, row_number() OVER (PARTITION BY kind, CASE WHEN kind = 'saved' THEN name ELSE query END \
         ORDER BY \"timestamp\" DESC) AS n FROM searches) \
     WHERE n = 1 ORDER BY kind DESC, \"timestamp\" DESC LIMIT 200";

impl Search {
    /// The SQL: `SELECT cols FROM view WHERE ... ORDER BY ... LIMIT ...`; `default_limit`
    /// applies when the search sets none.
    pub fn sql(&self, default_limit: u64) -> String {
        let cols = if self.columns.is_empty() {
            "*".to_owned()
        } else {
            self.columns.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
        };
        let mut sql = format!("SELECT {cols} FROM {}", ident(self.target.view()));
        sql.push_str(&self.where_clause());
        match &self.sort {
            Some((c, desc)) => {
                sql.push_str(&format!(" ORDER BY {} {} NULLS LAST", ident(c), if *desc { "DESC" } else { "ASC" }))
            }
            None => sql.push_str(" ORDER BY \"timestamp\" DESC NULLS LAST"),
        }
        sql.push_str(&format!(" LIMIT {}", self.limit.unwrap_or(default_limit)));
        sql
    }
}

impl Search {
    /// The order of a search: column, and descending.
    fn order(&self) -> (String, bool) {
        match &self.sort {
            Some((c, desc)) => (c.clone(), *desc),
            None => ("timestamp".to_owned(), true),
        }
    }

    /// Late materialization, step one: the `guid` and sort value of the rows to show,
    /// reading only the columns the conditions and the order need (on 10 million
    /// events a tenth of the time of [`Search::sql`]).
    pub fn keys_sql(&self, default_limit: u64) -> String {
        let (c, desc) = self.order();
        let c = ident(&c);
        format!(
            "SELECT guid, {c} FROM {}{} ORDER BY {c} {} NULLS LAST LIMIT {}",
            ident(self.target.view()),
            self.where_clause(),
            if desc { "DESC" } else { "ASC" },
            self.limit.unwrap_or(default_limit)
        )
    }

    /// Step two: the rows of `n` guids (bound parameters, then the low and high
    /// timestamp when `time_range`, which lets the scan skip row groups by their
    /// statistics), with the columns shown, in the search's order.
    pub fn rows_sql(&self, n: usize, time_range: bool) -> String {
        let cols = if self.columns.is_empty() {
            "*".to_owned()
        } else {
            self.columns.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
        };
        let (c, desc) = self.order();
        let marks = vec!["?"; n].join(", ");
        let range = if time_range { " AND \"timestamp\" BETWEEN ? AND ?" } else { "" };
        format!(
            "SELECT {cols} FROM {} WHERE guid IN ({marks}){range} ORDER BY {} {} NULLS LAST",
            ident(self.target.view()),
            ident(&c),
            if desc { "DESC" } else { "ASC" }
        )
    }

    /// Whether the search is ordered by time (step two may bound the time).
    pub fn by_time(&self) -> bool {
        self.order().0 == "timestamp"
    }
}

/// A search's rows (at most its limit, else `limit`). Over events, in two steps
/// (late materialization): the guids of the rows to show, reading only the columns
/// the conditions and the order need, then those rows' columns, by guid within the
/// time range they span. When a search with its own time range finds fewer rows
/// than the limit, the second step is that search itself.
pub fn run_search(reader: &Reader, s: &Search, limit: u64) -> Result<QueryResult, QueryError> {
    if !s.target.is_events() {
        return reader.query(&s.sql(limit), &s.params);
    }
    let keys = reader.query(&s.keys_sql(limit), &s.params)?;
    let guids: Vec<SqlValue> =
        keys.rows.iter().filter_map(|r| r.first()?.as_str().map(|g| SqlValue::from(g.to_owned()))).collect();
    if guids.len() != keys.rows.len() {
        // Rows without a guid (not written by this store): in one step.
        return reader.query(&s.sql(limit), &s.params);
    }
    if guids.is_empty() {
        // No rows; the columns still.
        return reader.query(&s.sql(0), &s.params);
    }
    if s.timed && (guids.len() as u64) < s.limit.unwrap_or(limit) {
        // Every match of a search with its own time range was found: few rows,
        // which that search reads as cheaply as the rows by guid would be (a pivot's
        // hours span many row groups, and reading them by guid decodes every guid).
        return reader.query(&s.sql(limit), &s.params);
    }
    let times: Vec<i64> = keys.rows.iter().filter_map(|r| r.get(1)?.as_i64()).collect();
    let bounded = s.by_time() && times.len() == keys.rows.len();
    let n = guids.len();
    let mut params = guids;
    if bounded {
        params.push(times.iter().copied().min().unwrap_or(i64::MIN).into());
        params.push(times.iter().copied().max().unwrap_or(i64::MAX).into());
    }
    reader.query(&s.rows_sql(n, bounded), &params)
}

/// Which optional columns the alerts view has (probed with [`ALERT_COLUMN_NAMES`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertColumns {
    pub src_country: bool,
    pub dst_country: bool,
    pub event_source_type: bool,
}

impl AlertColumns {
    pub fn from_names(names: &[String]) -> AlertColumns {
        let has = |c: &str| names.iter().any(|n| n == c);
        AlertColumns {
            src_country: has("enrichments.geo.ip_src_addr.country"),
            dst_country: has("enrichments.geo.ip_dst_addr.country"),
            event_source_type: has("event_source_type"),
        }
    }
}

/// The queue's SQL and parameters: alerts, newest state, filtered and sorted.
pub fn queue_sql(spec: &QueueSpec, cols: &AlertColumns) -> Result<(String, Vec<SqlValue>), String> {
    let filter = search::parse(&format!("in:alerts {}", spec.filter), crate::event::now_ms())
        .map_err(|e| format!("filter: {e}"))?;
    debug_assert_eq!(filter.target, Target::Alerts);
    let opt = |present: bool, col: &str| if present { ident(col) } else { "NULL".to_owned() };
    let mut sql = format!(
        "SELECT alert_id, coalesce(last_timestamp, \"timestamp\") AS t, \"threat.triage.score\" AS score, \
         priority, status, coalesce(\"rule.name\", rule) AS rule, description, ip_src_addr, ip_dst_addr, \
         {} AS src_country, {} AS dst_country, {} AS stype, \"count\", meta_alert, assignee, event_guid FROM alerts",
        opt(cols.src_country, "enrichments.geo.ip_src_addr.country"),
        opt(cols.dst_country, "enrichments.geo.ip_dst_addr.country"),
        opt(cols.event_source_type, "event_source_type"),
    );
    let mut conds = filter.conditions.clone();
    if !spec.show_closed {
        conds.insert(0, "status NOT IN ('DISMISS', 'RESOLVE')".to_owned());
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(match spec.sort {
        SortKey::Score => " ORDER BY score DESC NULLS LAST, t DESC NULLS LAST, alert_id",
        SortKey::Time => " ORDER BY t DESC NULLS LAST, alert_id",
        SortKey::Priority => {
            " ORDER BY CASE priority WHEN 'HIGH' THEN 0 WHEN 'MED' THEN 1 WHEN 'LOW' THEN 2 ELSE 3 END, \
             score DESC NULLS LAST, t DESC NULLS LAST, alert_id"
        }
    });
    // One more than the queue holds, to tell that there are more.
    sql.push_str(&format!(" LIMIT {}", QUEUE_LIMIT + 1));
    Ok((sql, filter.params))
}

/// Sixty time buckets of `view` (rows matching `cond`, a `WHERE` clause or nothing):
/// each bucket's start time and count.
pub fn timeline_sql(view: &str, cond: &str) -> String {
    format!(
        "WITH q AS (SELECT \"timestamp\" AS ts FROM {}{cond}), \
         r AS (SELECT min(ts) AS lo, max(ts) AS hi FROM q) \
         SELECT lo + b * (hi - lo + 1) // 60 AS t, n FROM (\
           SELECT CAST(least(59, (ts - lo) * 60 // (hi - lo + 1)) AS BIGINT) AS b, count(*) AS n \
           FROM q, r WHERE ts IS NOT NULL GROUP BY b) , r ORDER BY b",
        ident(view)
    )
}

/// The ten most frequent values of `column` in `view` (rows matching `cond`), with
/// their counts.
pub fn top_values_sql(view: &str, cond: &str, column: &str) -> String {
    let c = ident(column);
    format!(
        "SELECT CAST({c} AS VARCHAR) AS k, count(*) AS n FROM {}{cond} GROUP BY 1 \
         ORDER BY n DESC, k LIMIT 10",
        ident(view)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_sql_hides_closed_alerts_and_binds_filter_values() {
        let spec = QueueSpec { sort: SortKey::Priority, show_closed: false, filter: "priority=HIGH".into() };
        let (sql, params) = queue_sql(&spec, &AlertColumns::default()).unwrap();
        assert!(
            sql.contains("WHERE status NOT IN ('DISMISS', 'RESOLVE') AND CAST(\"priority\" AS VARCHAR) = ?"),
            "{sql}"
        );
        assert!(sql.contains("NULL AS src_country"));
        assert!(sql.contains("ORDER BY CASE priority"));
        assert_eq!(params, vec![SqlValue::from("HIGH".to_owned())]);
        let cols = AlertColumns::from_names(&["enrichments.geo.ip_dst_addr.country".to_owned()]);
        let spec = QueueSpec { sort: SortKey::Score, show_closed: true, filter: String::new() };
        let (sql, _) = queue_sql(&spec, &cols).unwrap();
        assert!(!sql.contains("WHERE"));
        assert!(sql.contains("\"enrichments.geo.ip_dst_addr.country\" AS dst_country"));
    }

    #[test]
    fn a_search_is_one_statement_with_its_values_bound() {
        let s = search::parse("last 24h in:alerts sort:-count limit:5 cols:alert_id,count", 1_000_000_000_000).unwrap();
        assert_eq!(
            s.sql(100),
            "SELECT \"alert_id\", \"count\" FROM \"alerts\" WHERE \"timestamp\" >= ? ORDER BY \"count\" DESC NULLS LAST LIMIT 5"
        );
        // A value with an injection attempt is only ever a parameter.
        let s = search::parse("uri=\"x' OR 1=1 --\"", 0).unwrap();
        assert!(!s.sql(10).contains("OR 1=1"));
        assert!(s.sql(10).ends_with("ORDER BY \"timestamp\" DESC NULLS LAST LIMIT 10"));
    }
}
