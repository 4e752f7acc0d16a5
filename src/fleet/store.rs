//! The Redis side of a fleet: key layout, the Lua scripts that make each shared change atomic, and typed
//! replies. Everything here is one round trip on the caller's connection; nothing here decides routing.
//!
//! # Keys
//! Every key of a fleet starts with the hash tag `{<prefix>}`, so all of them live in one Redis Cluster slot and
//! every script may touch several (Cluster refuses multi-key commands across slots). All keys expire:
//!
//! | key | type | what | expires |
//! |---|---|---|---|
//! | `{p}:events` | stream | cooldown starts, latency batches, list versions (capped with `MAXLEN ~`) | an hour after the last event |
//! | `{p}:cooldowns` | hash | deployment id → end of its cooldown (Redis time, ms) | at the latest end |
//! | `{p}:use:<minute>` | hash | `r:<id>` requests leased, `t:<id>` tokens reported in that minute | 2 minutes after the minute starts |
//! | `{p}:inflight` | hash | replica → its routes in flight (`<lease end ms>\n<id>\t<count>\n…`) | at the latest lease end |
//! | `{p}:list` | hash | `v` version, `json` the published model list | never while published (the desired state) |
//!
//! Time is Redis's (`TIME` inside the scripts), so replicas with skewed clocks agree on windows and cooldown ends.

use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::{RedisResult, Script};

/// `MAXLEN ~` of the events stream: enough for a replica that missed a few polls to catch up; one that fell
/// further behind resynchronises from the hashes.
pub(crate) const EVENTS_MAXLEN: u64 = 10_000;
/// Events stream idle expiry.
const EVENTS_TTL_MS: u64 = 3_600_000;
/// One usage window: LiteLLM counts `rpm` / `tpm` per wall-clock minute.
pub(crate) const WINDOW_MS: u64 = 60_000;

/// Key names of one fleet.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    tag: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        // `{` and `}` inside the prefix would move the hash tag; they are refused by FleetOptions.
        Keys {
            tag: format!("{{{prefix}}}"),
        }
    }
    pub(crate) fn events(&self) -> String {
        format!("{}:events", self.tag)
    }
    pub(crate) fn cooldowns(&self) -> String {
        format!("{}:cooldowns", self.tag)
    }
    pub(crate) fn usage(&self, window: u64) -> String {
        format!("{}:use:{window}", self.tag)
    }
    pub(crate) fn in_flight(&self) -> String {
        format!("{}:inflight", self.tag)
    }
    pub(crate) fn list(&self) -> String {
        format!("{}:list", self.tag)
    }
}

/// One entry of the events stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// A replica cooled a deployment down until `until_ms` (Redis time).
    Cooldown { id: String, until_ms: u64 },
    /// Latency samples a replica measured: deployment id, sample (seconds, per token when known), time to
    /// first token (seconds).
    Latency(Vec<(String, f64, Option<f64>)>),
    /// A new model list version was published.
    List { version: u64 },
}

/// An event with the stream id it was read at and the replica that wrote it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Logged {
    pub stream_id: String,
    pub replica: String,
    pub event: Event,
}

/// What one poll of the events stream found.
#[derive(Debug, Default)]
pub(crate) struct Poll {
    /// Redis time (ms) at the poll.
    pub now_ms: u64,
    pub events: Vec<Logged>,
    /// The stream was trimmed past the last id read (or never read): events were lost and the caller must
    /// resynchronise from the hashes.
    pub gap: bool,
}

/// The Redis store of one fleet, for one replica.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    keys: Keys,
    replica: String,
}

fn script(source: &str) -> Script {
    Script::new(source)
}

const NOW: &str = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

impl Store {
    pub(crate) fn new(prefix: &str, replica: &str) -> Self {
        Store {
            keys: Keys::new(prefix),
            replica: replica.to_owned(),
        }
    }

    /// Redis time in milliseconds.
    pub(crate) async fn now_ms<C: ConnectionLike>(&self, conn: &mut C) -> RedisResult<u64> {
        let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(conn).await?;
        Ok(secs * 1000 + micros / 1000)
    }

    /// Starts (or extends) a cooldown of `id` for `duration`, fleet-wide, and logs it. Returns the end in Redis
    /// time (ms). A shorter cooldown never shortens a longer one already running.
    pub(crate) async fn start_cooldown<C: ConnectionLike>(
        &self,
        conn: &mut C,
        id: &str,
        duration: Duration,
    ) -> RedisResult<u64> {
        static SRC: &str = "
            local untilms = now + tonumber(ARGV[3])
            local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
            if untilms > cur then redis.call('HSET', KEYS[1], ARGV[2], untilms) else untilms = cur end
            if redis.call('PTTL', KEYS[1]) < untilms - now then redis.call('PEXPIRE', KEYS[1], untilms - now + 1000) end
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'k', 'cd', 'r', ARGV[1], 'id', ARGV[2], 'u', untilms)
            redis.call('PEXPIRE', KEYS[2], ARGV[5])
            return untilms";
        script(&format!("{NOW}{SRC}"))
            .key(self.keys.cooldowns())
            .key(self.keys.events())
            .arg(&self.replica)
            .arg(id)
            .arg(duration.as_millis().max(1) as u64)
            .arg(EVENTS_MAXLEN)
            .arg(EVENTS_TTL_MS)
            .invoke_async(conn)
            .await
    }

    /// Every cooldown still running, with its end (Redis time, ms); ended ones are removed on the way.
    pub(crate) async fn cooldowns<C: ConnectionLike>(
        &self,
        conn: &mut C,
    ) -> RedisResult<(u64, Vec<(String, u64)>)> {
        static SRC: &str = "
            local all = redis.call('HGETALL', KEYS[1])
            local out = {}
            for i = 1, #all, 2 do
              if tonumber(all[i + 1]) <= now then redis.call('HDEL', KEYS[1], all[i])
              else out[#out + 1] = all[i]; out[#out + 1] = all[i + 1] end
            end
            return {now, out}";
        let (now, flat): (u64, Vec<(String, u64)>) = script(&format!("{NOW}{SRC}"))
            .key(self.keys.cooldowns())
            .invoke_async(conn)
            .await?;
        Ok((now, flat))
    }

    /// Leases requests of several deployments in the current minute, in one script call: for each
    /// `(id, limit, want)`, up to `want`, never more than `limit` across the fleet in that minute (requests
    /// already leased by any replica count). Returns the minute and what each was granted, in order.
    pub(crate) async fn lease_requests<C: ConnectionLike>(
        &self,
        conn: &mut C,
        requests: &[(&str, u64, u64)],
    ) -> RedisResult<(u64, Vec<u64>)> {
        // The window key is named after Redis's minute, which only the script knows: the client names the key
        // from its estimate, and the script refuses (returns -1) when the estimate is off, with the right window.
        static SRC: &str = "
            local window = math.floor(now / tonumber(ARGV[1]))
            if tostring(window) ~= ARGV[2] then return {-1, window} end
            local out = {window, now}
            for i = 3, #ARGV, 3 do
              local field = ARGV[i]
              local used = tonumber(redis.call('HGET', KEYS[1], field) or '0')
              local grant = math.min(tonumber(ARGV[i + 2]), tonumber(ARGV[i + 1]) - used)
              if grant < 0 then grant = 0 end
              if grant > 0 then redis.call('HINCRBY', KEYS[1], field, grant) end
              out[#out + 1] = grant
            end
            redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[1]))
            return out";
        let script = script(&format!("{NOW}{SRC}"));
        let mut window = self.now_ms(conn).await? / WINDOW_MS;
        for _ in 0..3 {
            let mut invocation = script.key(self.keys.usage(window));
            invocation.arg(WINDOW_MS).arg(window);
            for (id, limit, want) in requests {
                invocation.arg(format!("r:{id}")).arg(*limit).arg(*want);
            }
            let reply: Vec<i64> = invocation.invoke_async(conn).await?;
            match reply.as_slice() {
                [-1, actual, ..] => window = *actual as u64,
                [actual, _now, grants @ ..] if grants.len() == requests.len() => {
                    return Ok((
                        *actual as u64,
                        grants.iter().map(|g| (*g).max(0) as u64).collect(),
                    ));
                }
                _ => break,
            }
        }
        Err(redis::RedisError::from((
            redis::ErrorKind::Client,
            "unexpected reply to a lease, or the Redis minute kept changing",
        )))
    }

    /// Gives back `count` unused requests of `window` (a replica that stops receiving traffic).
    pub(crate) async fn return_requests<C: ConnectionLike>(
        &self,
        conn: &mut C,
        id: &str,
        window: u64,
        count: u64,
    ) -> RedisResult<()> {
        static SRC: &str = "
            local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
            local back = math.min(used, tonumber(ARGV[2]))
            if back > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], -back) end
            return back";
        let _: i64 = script(SRC)
            .key(self.keys.usage(window))
            .arg(format!("r:{id}"))
            .arg(count)
            .invoke_async(conn)
            .await?;
        Ok(())
    }

    /// Adds reported tokens of `id` to the current minute; returns the minute and the fleet's total in it.
    pub(crate) async fn add_tokens<C: ConnectionLike>(
        &self,
        conn: &mut C,
        id: &str,
        tokens: u64,
    ) -> RedisResult<(u64, u64)> {
        // The client names this minute's and the next minute's keys; the script picks the right one.
        static SRC: &str = "
            local window = math.floor(now / tonumber(ARGV[3]))
            local key = KEYS[1]
            if tostring(window) ~= ARGV[4] then key = KEYS[2] end
            local total = redis.call('HINCRBY', key, ARGV[1], ARGV[2])
            redis.call('PEXPIRE', key, 2 * tonumber(ARGV[3]))
            return {window, total}";
        let window = self.now_ms(conn).await? / WINDOW_MS;
        script(&format!("{NOW}{SRC}"))
            .key(self.keys.usage(window))
            .key(self.keys.usage(window + 1))
            .arg(format!("t:{id}"))
            .arg(tokens)
            .arg(WINDOW_MS)
            .arg(window)
            .invoke_async(conn)
            .await
    }

    /// Replaces this replica's routes in flight (non-zero counts only), leased for `lease`: if the replica stops
    /// renewing (it crashed), its counts stop counting when the lease ends. Returns every other live replica's
    /// counts, summed per deployment; dead replicas' entries are removed on the way.
    pub(crate) async fn exchange_in_flight<C: ConnectionLike>(
        &self,
        conn: &mut C,
        mine: &[(&str, u64)],
        lease: Duration,
    ) -> RedisResult<Vec<(String, u64)>> {
        static SRC: &str = "
            local lease = tonumber(ARGV[2])
            if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1])
            else redis.call('HSET', KEYS[1], ARGV[1], (now + lease) .. '\\n' .. ARGV[3]) end
            local all = redis.call('HGETALL', KEYS[1])
            local sums = {}
            local latest = 0
            for i = 1, #all, 2 do
              local v = all[i + 1]
              local nl = string.find(v, '\\n', 1, true)
              local ends = tonumber(string.sub(v, 1, nl - 1))
              if ends <= now then redis.call('HDEL', KEYS[1], all[i])
              else
                if ends > latest then latest = ends end
                if all[i] ~= ARGV[1] then
                  for id, count in string.gmatch(string.sub(v, nl + 1), '([^\\t\\n]+)\\t(%d+)') do
                    sums[id] = (sums[id] or 0) + tonumber(count)
                  end
                end
              end
            end
            if latest > now then redis.call('PEXPIRE', KEYS[1], latest - now) end
            local out = {}
            for id, count in pairs(sums) do out[#out + 1] = id; out[#out + 1] = count end
            return out";
        let mut encoded = String::new();
        for (id, count) in mine.iter().filter(|(_, c)| *c > 0) {
            encoded.push_str(&escape(id));
            encoded.push('\t');
            encoded.push_str(&count.to_string());
            encoded.push('\n');
        }
        let sums: Vec<(String, u64)> = script(&format!("{NOW}{SRC}"))
            .key(self.keys.in_flight())
            .arg(&self.replica)
            .arg(lease.as_millis().max(1) as u64)
            .arg(encoded)
            .invoke_async(conn)
            .await?;
        Ok(sums.into_iter().map(|(id, n)| (unescape(&id), n)).collect())
    }

    /// Logs latency samples (deployment id, sample, time to first token) for the other replicas.
    pub(crate) async fn log_latencies<C: ConnectionLike>(
        &self,
        conn: &mut C,
        samples: &[(&str, f64, Option<f64>)],
    ) -> RedisResult<()> {
        if samples.is_empty() {
            return Ok(());
        }
        let mut encoded = String::new();
        for (id, sample, ttft) in samples {
            encoded.push_str(&escape(id));
            encoded.push('\t');
            encoded.push_str(&sample.to_string());
            encoded.push('\t');
            match ttft {
                Some(t) => encoded.push_str(&t.to_string()),
                None => encoded.push('-'),
            }
            encoded.push('\n');
        }
        let mut pipe = redis::pipe();
        pipe.cmd("XADD")
            .arg(self.keys.events())
            .arg("MAXLEN")
            .arg("~")
            .arg(EVENTS_MAXLEN)
            .arg("*")
            .arg("k")
            .arg("lat")
            .arg("r")
            .arg(&self.replica)
            .arg("d")
            .arg(encoded)
            .ignore()
            .cmd("PEXPIRE")
            .arg(self.keys.events())
            .arg(EVENTS_TTL_MS)
            .ignore();
        pipe.query_async(conn).await
    }

    /// Publishes a model list (JSON): a new version, logged for every replica. Returns the version.
    pub(crate) async fn publish_list<C: ConnectionLike>(
        &self,
        conn: &mut C,
        json: &str,
    ) -> RedisResult<u64> {
        static SRC: &str = "
            local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
            redis.call('HSET', KEYS[1], 'json', ARGV[2])
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', 'list', 'r', ARGV[1], 'v', v)
            redis.call('PEXPIRE', KEYS[2], ARGV[4])
            return v";
        script(SRC)
            .key(self.keys.list())
            .key(self.keys.events())
            .arg(&self.replica)
            .arg(json)
            .arg(EVENTS_MAXLEN)
            .arg(EVENTS_TTL_MS)
            .invoke_async(conn)
            .await
    }

    /// The published list's version (0: none published).
    pub(crate) async fn list_version<C: ConnectionLike>(&self, conn: &mut C) -> RedisResult<u64> {
        let v: Option<u64> = redis::cmd("HGET")
            .arg(self.keys.list())
            .arg("v")
            .query_async(conn)
            .await?;
        Ok(v.unwrap_or(0))
    }

    /// The published list: version and JSON (`None`: none published).
    pub(crate) async fn list<C: ConnectionLike>(
        &self,
        conn: &mut C,
    ) -> RedisResult<Option<(u64, String)>> {
        let (v, json): (Option<u64>, Option<String>) = redis::cmd("HMGET")
            .arg(self.keys.list())
            .arg("v")
            .arg("json")
            .query_async(conn)
            .await?;
        Ok(v.zip(json))
    }

    /// Reads up to `count` events logged after `after` (a stream id; `None`: start from the current end, and
    /// report a gap so the caller loads the full state). Events this replica wrote are skipped.
    pub(crate) async fn poll<C: ConnectionLike>(
        &self,
        conn: &mut C,
        after: Option<&str>,
        count: usize,
    ) -> RedisResult<(Poll, Option<String>)> {
        static SRC: &str = "
            local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
            local entries
            if ARGV[1] == '' then entries = {} else entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2]) end
            local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
            local first_id = ''
            if #first > 0 then first_id = first[1][1] end
            local last_id = ''
            if #last > 0 then last_id = last[1][1] end
            return {now, first_id, last_id, entries}";
        let after_arg = after.unwrap_or("");
        let (now_ms, first_id, last_id, entries): (
            u64,
            String,
            String,
            Vec<(String, Vec<String>)>,
        ) = script(&format!("{NOW}{SRC}"))
            .key(self.keys.events())
            .arg(after_arg)
            .arg(count)
            .invoke_async(conn)
            .await?;
        // Trimmed past our position (the oldest entry left is newer than the last one we read): events may be lost.
        // A stream that was empty when we started (`0-0`) loses nothing until it holds EVENTS_MAXLEN entries.
        let gap = match after {
            None => true,
            Some(after) => {
                after != "0-0" && !first_id.is_empty() && stream_id_less(after, &first_id)
            }
        };
        let mut next = after.map(str::to_owned);
        if after.is_none() {
            // Start from the current end: the full state is loaded by the caller.
            next = Some(if last_id.is_empty() {
                "0-0".to_owned()
            } else {
                last_id
            });
        }
        let mut events = Vec::with_capacity(entries.len());
        for (stream_id, fields) in entries {
            next = Some(stream_id.clone());
            // A replica's own cooldowns and samples are already in its state; its own list is not (any
            // replica may publish, and applies what it published like the others).
            if let Some(logged) = parse_entry(stream_id, &fields)
                && (logged.replica != self.replica || matches!(logged.event, Event::List { .. }))
            {
                events.push(logged);
            }
        }
        Ok((
            Poll {
                now_ms,
                events,
                gap,
            },
            next,
        ))
    }
}

/// `a < b` for stream ids `<ms>-<seq>`.
fn stream_id_less(a: &str, b: &str) -> bool {
    fn parse(id: &str) -> (u64, u64) {
        let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
        (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
    }
    parse(a) < parse(b)
}

fn parse_entry(stream_id: String, fields: &[String]) -> Option<Logged> {
    let get = |name: &str| {
        fields
            .chunks(2)
            .find(|pair| pair.len() == 2 && pair[0] == name)
            .map(|pair| pair[1].as_str())
    };
    let replica = get("r")?.to_owned();
    let event = match get("k")? {
        "cd" => Event::Cooldown {
            id: get("id")?.to_owned(),
            until_ms: get("u")?.parse().ok()?,
        },
        "lat" => Event::Latency(
            get("d")?
                .lines()
                .filter_map(|line| {
                    let mut parts = line.split('\t');
                    let id = unescape(parts.next()?);
                    let sample: f64 = parts
                        .next()?
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
                    let ttft = match parts.next()? {
                        "-" => None,
                        t => Some(
                            t.parse::<f64>()
                                .ok()
                                .filter(|t| t.is_finite() && *t >= 0.0)?,
                        ),
                    };
                    Some((id, sample, ttft))
                })
                .collect(),
        ),
        "list" => Event::List {
            version: get("v")?.parse().ok()?,
        },
        _ => return None,
    };
    Some(Logged {
        stream_id,
        replica,
        event,
    })
}

/// Deployment ids are the user's strings: tabs, newlines and `%` are percent-escaped in the line formats above.
fn escape(id: &str) -> std::borrow::Cow<'_, str> {
    if !id.contains(['\t', '\n', '\r', '%']) {
        return std::borrow::Cow::Borrowed(id);
    }
    let mut out = String::with_capacity(id.len() + 8);
    for c in id.chars() {
        match c {
            '\t' => out.push_str("%09"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn unescape(id: &str) -> String {
    if !id.contains('%') {
        return id.to_owned();
    }
    id.replace("%09", "\t")
        .replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%25", "%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_with_separators_survive_the_line_formats() {
        for id in ["plain", "tab\there", "new\nline", "100%", "%09 literal"] {
            assert_eq!(unescape(&escape(id)), id);
            assert!(!escape(id).contains(['\t', '\n']));
        }
    }

    #[test]
    fn stream_ids_compare_numerically() {
        assert!(stream_id_less("9-0", "10-0"));
        assert!(stream_id_less("10-2", "10-10"));
        assert!(!stream_id_less("10-10", "10-10"));
    }
}
