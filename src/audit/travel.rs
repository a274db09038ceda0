//! Where an event happened (metadata `geo`) and impossible travel between two located events.
//!
//! atoctl reads `metadata` as the text PostgreSQL renders for it anyway (the JSON output carries
//! it verbatim), so the place and the coordinates are taken from that text here instead of
//! asking the server to walk every event's jsonb a second time. The rules are PostgreSQL's:
//!
//! - an event is *located* when `metadata.geo` is an object whose `lat` and `lon` are JSON
//!   numbers with `lat` in [−90, 90] and `lon` in [−180, 180], compared exactly as PostgreSQL
//!   compares `numeric` values (a number that rounds to 90.0 in binary but is above 90 in decimal
//!   is not located); anything else (no geo, a string, an array, `null` metadata) is not;
//! - the place is `concat_ws(', ', metadata->'geo'->>'city', metadata->'geo'->>'country')`;
//! - distance and speed are computed with the same float8 operations, in the same order, as the
//!   SQL formula `2 * 6371.0088 * asin(least(1, sqrt(power(sin(radians(Δlat) / 2), 2) + cos(radians(lat))
//!   * cos(radians(prev_lat)) * power(sin(radians(Δlon) / 2), 2))))`.

use std::borrow::Cow;
use std::cmp::Ordering;

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Mean Earth radius (IUGG), km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;
/// PostgreSQL's `RADIANS_PER_DEGREE` (float.c, `0.0174532925199432957692`) as the same float8,
/// so that `radians()` rounds identically.
const RADIANS_PER_DEGREE: f64 = 0.017_453_292_519_943_295;

/// What audit-query needs from an event's metadata.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Geo {
    /// `(lat, lon)` when the event is located.
    pub position: Option<(f64, f64)>,
    /// `city, country` (either may be missing), empty when neither is there.
    pub place: String,
}

/// Reads `geo` from an event's metadata (JSON text as PostgreSQL renders jsonb). Never fails:
/// whatever is not a usable geo is simply no geo. `place` is filled only when asked for.
pub fn parse(metadata: &str, want_place: bool) -> Geo {
    let out = Geo::default();
    // PostgreSQL's `->'geo'` only looks into objects (jsonb text never starts with white space),
    // and its text never escapes the letters of a key: no `"geo"`, no geo.
    if !metadata.starts_with('{') || !metadata.contains("\"geo\"") {
        return out;
    }
    let g = match fast_geo(metadata) {
        Some(g) => g,
        None => match serde_json::from_str::<Top>(metadata) {
            Ok(Top(Some(g))) => g,
            _ => return out,
        },
    };
    finish(g, want_place)
}

fn finish(g: GeoFields<'_>, want_place: bool) -> Geo {
    let mut out = Geo::default();
    if let (Some(lat), Some(lon)) = (g.lat, g.lon)
        && let (Some(lat), Some(lon)) = (coordinate(lat, 90), coordinate(lon, 180))
    {
        out.position = Some((lat, lon));
    }
    if want_place {
        let parts: Vec<Cow<str>> = [g.city, g.country]
            .into_iter()
            .flatten()
            .filter_map(as_text)
            .collect();
        out.place = parts.join(", ");
    }
    out
}

/// The common shape, read without a JSON parser: metadata that starts with
/// `{"geo": {` and a flat object of plain scalars, in PostgreSQL's layout (`"key": value`
/// separated by `, `). Anything else (a nested value, an escape in a string, other spacing)
/// returns `None` and goes to serde. What follows the `geo` object is not read: the text is
/// jsonb's rendering, valid JSON without duplicate keys.
fn fast_geo(metadata: &str) -> Option<GeoFields<'_>> {
    let mut rest = metadata.strip_prefix("{\"geo\": {")?;
    let mut g = GeoFields::default();
    if let Some(after) = rest.strip_prefix('}') {
        let _ = after;
        return Some(g);
    }
    loop {
        rest = rest.strip_prefix('"')?;
        let end = rest.find('"')?;
        let key = &rest[..end];
        if key.contains('\\') {
            return None;
        }
        rest = rest[end + 1..].strip_prefix(": ")?;
        let len = match rest.as_bytes().first()? {
            b'"' => {
                let close = rest[1..].find('"')? + 2;
                if rest[..close].contains('\\') {
                    return None;
                }
                close
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => rest.find([',', '}'])?,
            _ => return None,
        };
        let value = &rest[..len];
        let value = (value != "null").then_some(value);
        match key {
            "lat" => g.lat = value,
            "lon" => g.lon = value,
            "city" => g.city = value,
            "country" => g.country = value,
            _ => {}
        }
        rest = &rest[len..];
        if rest.starts_with('}') {
            return Some(g);
        }
        rest = rest.strip_prefix(", ")?;
    }
}

/// The metadata object, read in one pass: its `geo` member when that is an object.
struct Top<'a>(Option<GeoFields<'a>>);

/// The raw JSON text of the members of `geo` atoctl uses (`null` counts as missing).
#[derive(Debug, Default, PartialEq)]
struct GeoFields<'a> {
    lat: Option<&'a str>,
    lon: Option<&'a str>,
    city: Option<&'a str>,
    country: Option<&'a str>,
}

/// A key of the metadata or of `geo`; the others are skipped unread.
enum Key {
    Geo,
    Lat,
    Lon,
    City,
    Country,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, k: &str) -> Result<Key, E> {
                Ok(match k {
                    "geo" => Key::Geo,
                    "lat" => Key::Lat,
                    "lon" => Key::Lon,
                    "city" => Key::City,
                    "country" => Key::Country,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Top<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Top<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
                let mut geo = None;
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        // jsonb has no duplicate keys; with text input the last would win.
                        Key::Geo => geo = map.next_value::<MaybeGeo>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Top(geo))
            }
        }
        d.deserialize_map(V)
    }
}

/// `geo`: its fields when it is an object, nothing when it is anything else.
struct MaybeGeo<'a>(Option<GeoFields<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for MaybeGeo<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeGeo<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MaybeGeo<'de>, A::Error> {
                let mut g = GeoFields::default();
                while let Some(key) = map.next_key::<Key>()? {
                    let slot = match key {
                        Key::Lat => &mut g.lat,
                        Key::Lon => &mut g.lon,
                        Key::City => &mut g.city,
                        Key::Country => &mut g.country,
                        Key::Geo | Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    let v: &RawValue = map.next_value()?;
                    // `null` is missing, as for PostgreSQL's `->` followed by a type test.
                    *slot = Some(v.get()).filter(|v| *v != "null");
                }
                Ok(MaybeGeo(Some(g)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MaybeGeo<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeGeo(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<MaybeGeo<'de>, E> {
                Ok(MaybeGeo(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<MaybeGeo<'de>, E> {
                Ok(MaybeGeo(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<MaybeGeo<'de>, E> {
                Ok(MaybeGeo(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<MaybeGeo<'de>, E> {
                Ok(MaybeGeo(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<MaybeGeo<'de>, E> {
                Ok(MaybeGeo(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<MaybeGeo<'de>, E> {
                Ok(MaybeGeo(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// PostgreSQL's `->>`: a string unescaped, `null` missing, anything else as its JSON text.
fn as_text(raw: &str) -> Option<Cow<'_, str>> {
    match raw.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<Cow<str>>(raw).ok(),
        Some(b'n') => None,
        _ => Some(Cow::Borrowed(raw)),
    }
}

/// A JSON number within [−bound, bound], as float8 (PostgreSQL's `numeric::float8`, correctly
/// rounded like Rust's parser). `None` for anything else.
fn coordinate(raw: &str, bound: u32) -> Option<f64> {
    let first = *raw.as_bytes().first()?;
    if !(first == b'-' || first.is_ascii_digit()) {
        return None;
    }
    let v: f64 = raw.parse().ok()?;
    let b = f64::from(bound);
    // Rounding to binary is monotonic and ±bound is exact in binary: only a value that rounds
    // to exactly ±bound needs the decimal comparison.
    let within = match v.abs().partial_cmp(&b)? {
        Ordering::Less => true,
        Ordering::Greater => false,
        Ordering::Equal => decimal_abs_cmp(raw, bound)? != Ordering::Greater,
    };
    within.then_some(v)
}

/// Compares |x| (a JSON number's text) with a positive integer, exactly, in decimal.
fn decimal_abs_cmp(raw: &str, bound: u32) -> Option<Ordering> {
    let s = raw.strip_prefix('-').unwrap_or(raw);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i64>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    // x = 0.D × 10^point with D the significant digits.
    let digits = format!("{int}{frac}");
    let lead = digits.len() - digits.trim_start_matches('0').len();
    let sig = digits.trim_start_matches('0').trim_end_matches('0');
    if sig.is_empty() {
        return Some(Ordering::Less);
    }
    let point = (int.len() as i64)
        .checked_sub(lead as i64)?
        .checked_add(exp)?;
    let b = bound.to_string();
    let b_sig = b.trim_end_matches('0');
    let b_point = b.len() as i64;
    Some(point.cmp(&b_point).then_with(|| sig.cmp(b_sig)))
}

/// One located event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Located {
    pub id: i64,
    /// Microseconds since the Unix epoch.
    pub at_us: i64,
    pub lat: f64,
    pub lon: f64,
}

/// The distance (km) and time (s) between an older and a newer located event, when the trip is
/// impossible: further apart than `min_km` and faster than `max_speed_kmh` (zero time counts as
/// impossible).
pub fn impossible(
    older: &Located,
    newer: &Located,
    max_speed_kmh: f64,
    min_km: f64,
) -> Option<(f64, f64)> {
    let secs = newer.at_us.checked_sub(older.at_us)? as f64 / 1_000_000.0;
    let km = great_circle_km(older.lat, older.lon, newer.lat, newer.lon);
    (km > min_km && (secs <= 0.0 || km * 3600.0 / secs > max_speed_kmh)).then_some((km, secs))
}

/// Haversine, with the operations of the SQL formula (`power(x, 2)` is `pow`, like PostgreSQL).
fn great_circle_km(prev_lat: f64, prev_lon: f64, lat: f64, lon: f64) -> f64 {
    let rad = |x: f64| x * RADIANS_PER_DEGREE;
    let h = (rad(lat - prev_lat) / 2.0).sin().powf(2.0)
        + rad(lat).cos() * rad(prev_lat).cos() * (rad(lon - prev_lon) / 2.0).sin().powf(2.0);
    2.0 * EARTH_RADIUS_KM * 1.0_f64.min(h.sqrt()).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(m: &str) -> Option<(f64, f64)> {
        parse(m, false).position
    }

    #[test]
    fn located_needs_numeric_in_range_coordinates_in_an_object() {
        assert_eq!(
            pos(r#"{"geo": {"lat": 48.8566, "lon": 2.3522, "city": "Paris"}}"#),
            Some((48.8566, 2.3522))
        );
        assert_eq!(
            pos(r#"{"geo": {"lat": -90, "lon": 180}}"#),
            Some((-90.0, 180.0))
        );
        for m in [
            r#"{"geo": "New York"}"#,
            r#"{"geo": {"lat": "40.7", "lon": "-74"}}"#,
            r#"{"geo": {"lat": 123.0, "lon": 500}}"#,
            r#"{"geo": {"lat": 10}}"#,
            r#"{"geo": {"lat": null, "lon": 1}}"#,
            r#"{"geo": [48.8, 2.3, "Paris", "FR"]}"#,
            r#"[{"geo": {"lat": 1, "lon": 2}}]"#,
            r#"{"geo": null}"#,
            r#"{"other": {"lat": 1, "lon": 2}}"#,
            "null",
            "{}",
            "",
            r#"{"geo": {"lat": 90.0000000000000000001, "lon": 0}}"#,
            r#"{"geo": {"lat": 1e400, "lon": 0}}"#,
        ] {
            assert_eq!(pos(m), None, "{m}");
        }
        assert_eq!(
            pos(r#"{"geo": {"lat": 89.99999999999999999999, "lon": -180.000}}"#),
            Some((90.0, -180.0))
        );
        assert_eq!(
            pos(r#"{"geo": {"lat": 0.9E2, "lon": -1.8e+2}}"#),
            Some((90.0, -180.0))
        );
        assert_eq!(
            pos(r#"{"g\u0065o": {"lat": 1, "lon": 2}}"#),
            None,
            "PostgreSQL never escapes a letter of a key: such text is not jsonb's"
        );
    }

    #[test]
    fn the_fast_reader_agrees_with_serde_or_steps_aside() {
        fn serde(m: &str) -> Option<GeoFields<'_>> {
            serde_json::from_str::<Top>(m).ok().and_then(|t| t.0)
        }
        let cases = [
            r#"{"geo": {"lat": 48.85, "lon": 2.35, "city": "Paris", "country": "FR"}}"#,
            r#"{"geo": {"lat": 48.85, "lon": 2.35, "city": "Paris", "country": "FR"}, "zz": [1, {"geo": 2}]}"#,
            r#"{"geo": {}}"#,
            r#"{"geo": {"alt": 3, "lat": -1e-3, "lon": 0, "city": null, "country": true}}"#,
            r#"{"geo": {"lat": "48", "lon": 2}}"#,
            r#"{"geo": {"lat": 1, "lon": 2, "city": "a,b}c", "country": "x"}}"#,
            r#"{"geo": {"lat": 1, "lon": 2, "city": "São "P""}}"#,
            r#"{"geo": {"lat": 1, "lon": 2, "x": {"y": 1}, "city": "z"}}"#,
            r#"{"geo": {"lat": 1, "lon": 2, "x": [1, 2], "city": "z"}}"#,
            r#"{"geo": {"l"at": 1, "lon": 2}}"#,
            r#"{"geo": {"lat":1,"lon":2}}"#,
            r#"{"geo": "Paris"}"#,
            r#"{"geo": [1, 2]}"#,
            r#"{"geo": null}"#,
            r#"{"to": "b@x", "geo": {"lat": 1, "lon": 2}, "from": "a@x"}"#,
        ];
        for m in cases {
            if let Some(g) = fast_geo(m) {
                assert_eq!(Some(g), serde(m), "{m}");
            }
            let by_serde = serde(m).map(|g| finish(g, true)).unwrap_or_default();
            assert_eq!(parse(m, true), by_serde, "{m}");
        }
        assert!(fast_geo(cases[0]).is_some() && fast_geo(cases[3]).is_some());
    }

    #[test]
    fn exact_decimal_comparison_at_the_bound() {
        assert_eq!(decimal_abs_cmp("90", 90), Some(Ordering::Equal));
        assert_eq!(decimal_abs_cmp("-90.000", 90), Some(Ordering::Equal));
        assert_eq!(decimal_abs_cmp("9e1", 90), Some(Ordering::Equal));
        assert_eq!(decimal_abs_cmp("900e-1", 90), Some(Ordering::Equal));
        assert_eq!(
            decimal_abs_cmp("90.00000000000000000001", 90),
            Some(Ordering::Greater)
        );
        assert_eq!(
            decimal_abs_cmp("89.99999999999999999999", 90),
            Some(Ordering::Less)
        );
        assert_eq!(decimal_abs_cmp("0.000", 90), Some(Ordering::Less));
        assert_eq!(decimal_abs_cmp("180.0", 180), Some(Ordering::Equal));
        assert_eq!(decimal_abs_cmp("1800e-1", 180), Some(Ordering::Equal));
        assert_eq!(decimal_abs_cmp("181", 180), Some(Ordering::Greater));
    }

    #[test]
    fn place_is_concat_ws_of_city_and_country() {
        let p = |m: &str| parse(m, true).place;
        assert_eq!(
            p(r#"{"geo": {"city": "Paris", "country": "FR"}}"#),
            "Paris, FR"
        );
        assert_eq!(p(r#"{"geo": {"country": "FR"}}"#), "FR");
        assert_eq!(p(r#"{"geo": {"city": null, "country": "FR"}}"#), "FR");
        assert_eq!(p(r#"{"geo": {"city": "", "country": "FR"}}"#), ", FR");
        assert_eq!(
            p(r#"{"geo": {"city": 12, "country": {"a": 1}}}"#),
            r#"12, {"a": 1}"#
        );
        assert_eq!(p(r#"{"geo": {"city": "S\u00e3o \"P\""}}"#), "São \"P\"");
        assert_eq!(p(r#"{"geo": "Paris"}"#), "");
        assert_eq!(parse(r#"{"geo": {"city": "Paris"}}"#, false).place, "");
    }

    #[test]
    fn paris_new_york_in_half_an_hour_is_impossible() {
        let paris = Located {
            id: 1,
            at_us: 0,
            lat: 48.8566,
            lon: 2.3522,
        };
        let ny = Located {
            id: 2,
            at_us: 1_800_000_000,
            lat: 40.7128,
            lon: -74.006,
        };
        let (km, secs) = impossible(&paris, &ny, 1000.0, 50.0).unwrap();
        assert!((5800.0..5900.0).contains(&km), "{km}");
        assert_eq!(secs, 1800.0);
        assert!(impossible(&paris, &ny, 20_000.0, 50.0).is_none());
        let near = Located {
            lat: 48.9,
            at_us: 0,
            ..paris
        };
        assert!(
            impossible(&paris, &near, 1000.0, 50.0).is_none(),
            "under 50 km never counts, even at zero time"
        );
        let same_time = Located { at_us: 0, ..ny };
        assert_eq!(impossible(&paris, &same_time, 1000.0, 50.0).unwrap().1, 0.0);
    }
}
