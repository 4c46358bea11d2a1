//! The standard field names (DESIGN.md, "The event"), in one place.

pub const TIMESTAMP: &str = "timestamp";
pub const IP_SRC_ADDR: &str = "ip_src_addr";
pub const IP_DST_ADDR: &str = "ip_dst_addr";
pub const IP_SRC_PORT: &str = "ip_src_port";
pub const IP_DST_PORT: &str = "ip_dst_port";
pub const PROTOCOL: &str = "protocol";
pub const ORIGINAL_STRING: &str = "original_string";
pub const SOURCE_TYPE: &str = "source.type";
pub const GUID: &str = "guid";
pub const COMMUNITY_ID: &str = "community_id";
pub const IS_ALERT: &str = "is_alert";

/// Error record fields.
pub const ERROR_TYPE: &str = "error_type";
pub const FAILED_SENSOR_TYPE: &str = "failed_sensor_type";
pub const MESSAGE: &str = "message";
pub const RAW_MESSAGE: &str = "raw_message";
pub const ERROR_HASH: &str = "error_hash";
pub const FILE: &str = "file";
pub const LINE: &str = "line";

/// The fields of the event model itself (DESIGN.md), which sensor data must not take
/// over and which a field selection always keeps.
pub const STANDARD: [&str; 11] = [
    TIMESTAMP,
    IP_SRC_ADDR,
    IP_DST_ADDR,
    IP_SRC_PORT,
    IP_DST_PORT,
    PROTOCOL,
    ORIGINAL_STRING,
    SOURCE_TYPE,
    GUID,
    COMMUNITY_ID,
    IS_ALERT,
];
