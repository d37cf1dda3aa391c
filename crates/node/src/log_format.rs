//! Log lines in the shapes nwaku (Nim chronicles) writes, so that operators'
//! tooling reads ours too: `--log-format=TEXT` (chronicles' text lines) and
//! `--log-format=JSON` (one JSON object a line).
//!
//! Text:
//!
//! ```text
//! INF 2023-11-14 22:13:20.123+00:00 Node setup complete                        topics="waku_node::node"
//! DBG 2023-11-14 22:13:20.456+00:00 peer metadata                              topics="waku_metadata::behaviour" peer=16Uiu2HAm... cluster=Some(1)
//! ```
//!
//! JSON:
//!
//! ```text
//! {"lvl":"INF","ts":"2023-11-14 22:13:20.123+00:00","msg":"Node setup complete","topics":"waku_node::node"}
//! ```
//!
//! Timestamps are UTC. The `topics` are the `tracing` target.

use std::fmt::{self, Write as _};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The width chronicles pads a text line's message to.
pub const MESSAGE_WIDTH: usize = 42;

/// The shape of the log lines (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `TAG timestamp message topics="..." key=value ...`.
    #[default]
    Text,
    /// One compact JSON object a line.
    Json,
}

/// A `--log-format` value that is neither `TEXT` nor `JSON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLogFormat(pub String);

impl fmt::Display for UnknownLogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid value '{}' for '--log-format': expected TEXT or JSON",
            self.0
        )
    }
}

impl std::error::Error for UnknownLogFormat {}

impl FromStr for LogFormat {
    type Err = UnknownLogFormat;

    /// `TEXT` or `JSON`, in any letter case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("text") {
            Ok(Self::Text)
        } else if s.eq_ignore_ascii_case("json") {
            Ok(Self::Json)
        } else {
            Err(UnknownLogFormat(s.to_owned()))
        }
    }
}

/// chronicles' three-letter tag of a level. (chronicles also has `NTC` and
/// `FAT`; `tracing` has no notice or fatal level.)
pub fn level_tag(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRC",
        Level::DEBUG => "DBG",
        Level::INFO => "INF",
        Level::WARN => "WRN",
        Level::ERROR => "ERR",
    }
}

/// The ANSI colour a level's tag gets on a terminal.
fn level_colour(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "\x1b[2m",
        Level::DEBUG => "\x1b[34m",
        Level::INFO => "\x1b[32m",
        Level::WARN => "\x1b[33m",
        Level::ERROR => "\x1b[31m",
    }
}

const DAYS_PER_400_YEARS: u64 = 146_097;

fn is_leap_year(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// The (year, month, day) that is `days` days after 1970-01-01.
fn date_from_days(days: u64) -> (u64, u32, u32) {
    // Every 400 years of the Gregorian calendar have the same number of
    // days, so whole such periods are skipped at once; then year by year
    // (at most 400 of them) and month by month.
    let mut year = 1970 + days / DAYS_PER_400_YEARS * 400;
    let mut left = days % DAYS_PER_400_YEARS;
    loop {
        let length = if is_leap_year(year) { 366 } else { 365 };
        if left < length {
            break;
        }
        left -= length;
        year += 1;
    }
    let february = if is_leap_year(year) { 29 } else { 28 };
    let month_lengths = [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut month = 1;
    for length in month_lengths {
        if left < length {
            break;
        }
        left -= length;
        month += 1;
    }
    // `left` is below the month's length here, at most 30.
    (year, month, left as u32 + 1)
}

/// `time` as chronicles writes it, in UTC with milliseconds:
/// `2023-11-14 22:13:20.123+00:00`. Times before 1970 are written as
/// 1970-01-01.
pub fn timestamp(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let (year, month, day) = date_from_days(seconds / 86_400);
    let of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}+00:00",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        since_epoch.subsec_millis()
    )
}

/// A field's value, as the event recorded it.
#[derive(Debug, Clone, PartialEq)]
enum FieldValue {
    Text(String),
    Signed(i64),
    Unsigned(u64),
    Float(f64),
    Bool(bool),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => f.write_str(text),
            Self::Signed(n) => write!(f, "{n}"),
            Self::Unsigned(n) => write!(f, "{n}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// An event's message, its fields in the order recorded, and the target of
/// an event forwarded from the `log` crate.
#[derive(Debug, Default)]
struct Collected {
    message: String,
    log_target: Option<String>,
    fields: Vec<(&'static str, FieldValue)>,
}

impl Collected {
    fn add(&mut self, field: &Field, value: FieldValue) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "log.target" => self.log_target = Some(value.to_string()),
            // The rest of what `log` records forwards (module, file, line).
            name if name.starts_with("log.") => {}
            name => self.fields.push((name, value)),
        }
    }
}

impl Visit for Collected {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.add(field, FieldValue::Text(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.add(field, FieldValue::Text(value.to_owned()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.add(field, FieldValue::Text(value.to_string()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.add(field, FieldValue::Signed(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.add(field, FieldValue::Unsigned(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.add(field, FieldValue::Float(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.add(field, FieldValue::Bool(value));
    }
}

/// Writes `c` as an escape (`\n`, `\t`, `\u001b`, ...) when it is a control
/// character, so that a line stays one line and carries no terminal codes.
fn write_escaped_control(out: &mut impl fmt::Write, c: char) -> fmt::Result {
    match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c if c.is_control() => write!(out, "\\u{:04x}", u32::from(c)),
        c => out.write_char(c),
    }
}

/// `text` with its control characters escaped.
fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // Writing to a String does not fail.
        let _ = write_escaped_control(&mut out, c);
    }
    out
}

/// Writes a text-format value: as it is when it is a single plain word,
/// else in double quotes ([`write_quoted`]).
fn write_text_value(out: &mut impl fmt::Write, value: &str) -> fmt::Result {
    let plain = !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '=' || c == '"');
    if plain {
        out.write_str(value)
    } else {
        write_quoted(out, value)
    }
}

/// Writes `value` in double quotes, with `"` and `\` escaped (and control
/// characters).
fn write_quoted(out: &mut impl fmt::Write, value: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in value.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            c => write_escaped_control(out, c)?,
        }
    }
    out.write_char('"')
}

/// Writes `text` as a JSON string.
fn write_json_string(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in text.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if u32::from(c) < 0x20 || c == '\u{7f}' => write!(out, "\\u{:04x}", u32::from(c))?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// Writes a field's value as JSON: numbers and booleans as such (a float
/// that is not finite as a string), anything else as a string.
fn write_json_value(out: &mut impl fmt::Write, value: &FieldValue) -> fmt::Result {
    match value {
        FieldValue::Text(text) => write_json_string(out, text),
        FieldValue::Signed(n) => write!(out, "{n}"),
        FieldValue::Unsigned(n) => write!(out, "{n}"),
        FieldValue::Float(x) if x.is_finite() => write!(out, "{x}"),
        FieldValue::Float(x) => write_json_string(out, &x.to_string()),
        FieldValue::Bool(b) => write!(out, "{b}"),
    }
}

/// A `tracing_subscriber` event formatter writing nwaku's log lines.
///
/// ```no_run
/// use tracing_subscriber::layer::SubscriberExt;
/// use tracing_subscriber::util::SubscriberInitExt;
/// use waku_node::log_format::{LogFormat, NwakuFormat};
///
/// tracing_subscriber::registry()
///     .with(tracing_subscriber::fmt::layer().event_format(NwakuFormat::new(LogFormat::Json)))
///     .init();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NwakuFormat {
    format: LogFormat,
}

impl NwakuFormat {
    /// A formatter writing `format` lines.
    pub fn new(format: LogFormat) -> Self {
        Self { format }
    }

    /// The line (with its newline) for an event at `level` from `target`
    /// at `time`; colours the level tag when `ansi` (text format only).
    fn line(
        &self,
        level: &Level,
        target: &str,
        time: SystemTime,
        event: &Collected,
        ansi: bool,
    ) -> Result<String, fmt::Error> {
        let mut out = String::with_capacity(128);
        let tag = level_tag(level);
        let ts = timestamp(time);
        match self.format {
            LogFormat::Text => {
                if ansi {
                    write!(out, "{}{tag}\x1b[0m", level_colour(level))?;
                } else {
                    out.push_str(tag);
                }
                let message = escape_controls(&event.message);
                write!(out, " {ts} {message:<MESSAGE_WIDTH$} topics=")?;
                // Always quoted, as chronicles writes its topics.
                write_quoted(&mut out, target)?;
                for (name, value) in &event.fields {
                    write!(out, " {name}=")?;
                    write_text_value(&mut out, &value.to_string())?;
                }
            }
            LogFormat::Json => {
                out.push_str("{\"lvl\":");
                write_json_string(&mut out, tag)?;
                out.push_str(",\"ts\":");
                write_json_string(&mut out, &ts)?;
                out.push_str(",\"msg\":");
                write_json_string(&mut out, &event.message)?;
                out.push_str(",\"topics\":");
                write_json_string(&mut out, target)?;
                for (name, value) in &event.fields {
                    out.push(',');
                    write_json_string(&mut out, name)?;
                    out.push(':');
                    write_json_value(&mut out, value)?;
                }
                out.push('}');
            }
        }
        out.push('\n');
        Ok(out)
    }
}

impl<S, N> FormatEvent<S, N> for NwakuFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut collected = Collected::default();
        event.record(&mut collected);
        let metadata = event.metadata();
        let target = collected
            .log_target
            .clone()
            .unwrap_or_else(|| metadata.target().to_owned());
        let line = self.line(
            metadata.level(),
            &target,
            SystemTime::now(),
            &collected,
            writer.has_ansi_escapes(),
        )?;
        writer.write_str(&line)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// A log destination the tests read back.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
        type Writer = Buffer;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// The lines `log` writes with a subscriber using `format`.
    fn lines_of(format: LogFormat, ansi: bool, log: impl FnOnce()) -> Vec<String> {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .event_format(NwakuFormat::new(format))
                .with_writer(buffer.clone())
                .with_ansi(ansi),
        );
        tracing::subscriber::with_default(subscriber, log);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// A text line split into its tag, timestamp and the rest.
    fn split_text(line: &str) -> (&str, &str, &str) {
        let (tag, rest) = line.split_at(3);
        let rest = rest.strip_prefix(' ').unwrap();
        let (ts, rest) = rest.split_at("2023-11-14 22:13:20.123+00:00".len());
        (tag, ts, rest.strip_prefix(' ').unwrap())
    }

    fn is_timestamp(ts: &str) -> bool {
        let shape = "dddd-dd-dd dd:dd:dd.ddd+00:00";
        ts.len() == shape.len()
            && ts
                .chars()
                .zip(shape.chars())
                .all(|(c, s)| if s == 'd' { c.is_ascii_digit() } else { c == s })
    }

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        let at = |ms: u64| timestamp(UNIX_EPOCH + Duration::from_millis(ms));
        assert_eq!(at(1_700_000_000_123), "2023-11-14 22:13:20.123+00:00");
        assert_eq!(at(0), "1970-01-01 00:00:00.000+00:00");
        // Leap days, a century that is not a leap year, one that is.
        assert_eq!(at(951_782_400_000), "2000-02-29 00:00:00.000+00:00");
        assert_eq!(at(1_709_251_199_999), "2024-02-29 23:59:59.999+00:00");
        assert_eq!(at(1_709_251_200_000), "2024-03-01 00:00:00.000+00:00");
        assert_eq!(at(4_107_542_400_000), "2100-03-01 00:00:00.000+00:00");
        assert_eq!(at(1_735_689_599_000), "2024-12-31 23:59:59.000+00:00");
        // Past a whole 400-year period.
        assert_eq!(at(12_622_780_799_000), "2369-12-31 23:59:59.000+00:00");
        assert_eq!(at(12_622_780_800_000), "2370-01-01 00:00:00.000+00:00");
        assert_eq!(at(14_733_878_400_000), "2436-11-24 00:00:00.000+00:00");
        assert_eq!(
            timestamp(UNIX_EPOCH - Duration::from_secs(1)),
            "1970-01-01 00:00:00.000+00:00"
        );
    }

    #[test]
    fn dates_agree_with_counting_days_one_by_one() {
        let (mut year, mut month, mut day) = (1970_u64, 1_u32, 1_u32);
        // Past the end of the first 400-year period, into the next.
        for days in 0..(DAYS_PER_400_YEARS + 1_000) {
            assert_eq!(date_from_days(days), (year, month, day), "{days}");
            let february = if is_leap_year(year) { 29 } else { 28 };
            let length = [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month as usize - 1];
            day += 1;
            if day > length {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
    }

    #[test]
    fn log_formats_parse_in_any_case() {
        assert_eq!("TEXT".parse(), Ok(LogFormat::Text));
        assert_eq!("text".parse(), Ok(LogFormat::Text));
        assert_eq!("Json".parse(), Ok(LogFormat::Json));
        let err = "xml".parse::<LogFormat>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value 'xml' for '--log-format': expected TEXT or JSON"
        );
        assert_eq!(LogFormat::default(), LogFormat::Text);
    }

    #[test]
    fn text_lines_pad_the_message_and_quote_values() {
        let lines = lines_of(LogFormat::Text, false, || {
            tracing::info!(
                target: "waku_node::test",
                peer = "16Uiu2",
                reason = "too many peers",
                pair = "a=b",
                quoted = "say \"hi\" \\o/",
                empty = "",
                count = 3_u64,
                delta = -2_i64,
                ok = true,
                "short message"
            );
            tracing::warn!(target: "t", "{}", "m".repeat(50));
            tracing::debug!(target: "t", "two\nlines");
            tracing::error!(target: "t", shown = ?Some(7), "e");
            tracing::trace!(target: "t", "t");
        });
        assert_eq!(lines.len(), 5, "{lines:?}");

        let (tag, ts, rest) = split_text(&lines[0]);
        assert_eq!(tag, "INF");
        assert!(is_timestamp(ts), "{ts}");
        assert_eq!(
            rest,
            format!(
                "{:<42} topics=\"waku_node::test\" peer=16Uiu2 reason=\"too many peers\" pair=\"a=b\" quoted=\"say \\\"hi\\\" \\\\o/\" empty=\"\" count=3 delta=-2 ok=true",
                "short message"
            )
        );
        assert_eq!(rest.find(" topics="), Some(MESSAGE_WIDTH));

        // A message longer than the width is not cut nor padded.
        let (tag, _, rest) = split_text(&lines[1]);
        assert_eq!(tag, "WRN");
        assert_eq!(rest, format!("{} topics=\"t\"", "m".repeat(50)));

        let (tag, _, rest) = split_text(&lines[2]);
        assert_eq!(tag, "DBG");
        assert!(rest.starts_with("two\\nlines "), "{rest}");

        let (tag, _, rest) = split_text(&lines[3]);
        assert_eq!(tag, "ERR");
        assert!(rest.ends_with(" topics=\"t\" shown=Some(7)"), "{rest}");

        assert_eq!(split_text(&lines[4]).0, "TRC");
    }

    #[test]
    fn text_tags_are_coloured_only_with_ansi() {
        let lines = lines_of(LogFormat::Text, true, || tracing::info!("hello"));
        assert!(
            lines[0].starts_with("\x1b[32mINF\x1b[0m "),
            "{:?}",
            lines[0]
        );
        let lines = lines_of(LogFormat::Json, true, || tracing::info!("hello"));
        assert!(lines[0].starts_with("{\"lvl\":\"INF\""), "{:?}", lines[0]);
    }

    #[test]
    fn json_lines_have_the_keys_in_order_and_typed_values() {
        let lines = lines_of(LogFormat::Json, false, || {
            tracing::info!(
                target: "waku_node::test",
                peer = %"16Uiu2",
                count = 3_u64,
                delta = -2_i64,
                ratio = 0.5_f64,
                ok = true,
                shown = ?Some("x"),
                "Listening on \"/ip4/127.0.0.1\"\n"
            );
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["lvl"], "INF");
        assert!(is_timestamp(value["ts"].as_str().unwrap()), "{line}");
        assert_eq!(value["msg"], "Listening on \"/ip4/127.0.0.1\"\n");
        assert_eq!(value["topics"], "waku_node::test");
        assert_eq!(value["peer"], "16Uiu2");
        assert_eq!(value["count"], 3);
        assert_eq!(value["delta"], -2);
        assert_eq!(value["ratio"], 0.5);
        assert_eq!(value["ok"], true);
        assert_eq!(value["shown"], "Some(\"x\")");
        assert_eq!(value.as_object().unwrap().len(), 10);

        let keys = [
            "lvl", "ts", "msg", "topics", "peer", "count", "delta", "ratio", "ok", "shown",
        ];
        let positions: Vec<usize> = keys
            .iter()
            .map(|k| line.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(positions.is_sorted(), "{line}");
        assert!(line.starts_with("{\"lvl\":\"INF\",\"ts\":\""), "{line}");
    }

    #[test]
    fn json_floats_that_are_not_numbers_are_strings() {
        let lines = lines_of(LogFormat::Json, false, || {
            tracing::info!(x = f64::NAN, y = f64::INFINITY, "m");
        });
        let value: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(value["x"], "NaN");
        assert_eq!(value["y"], "inf");
    }

    #[test]
    fn lines_are_written_now() {
        let before = timestamp(SystemTime::now());
        let lines = lines_of(LogFormat::Text, false, || tracing::info!("now"));
        let after = timestamp(SystemTime::now());
        let (_, ts, _) = split_text(&lines[0]);
        assert!(before.as_str() <= ts && ts <= after.as_str(), "{ts}");
    }
}
