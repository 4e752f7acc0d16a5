//! A plain, obviously-correct model of the PatternRouter: a Vec of patterns scanned in order, matched with
//! anchored regexes. Shared by the property tests and the fuzz target (`#[path]`-included there).
#![allow(dead_code)]

use modelroute::Deployment;
use regex::Regex;

/// The deployment the property tests and the fuzz target generate: `pattern` served by `target`, an
/// `extra` parameter (so upserts can change something), the team's public name `pattern` when in a team,
/// and the id `id`. `None` when the inputs do not make a valid deployment.
pub fn deployment(
    id: &str,
    pattern: &str,
    target: &str,
    team: Option<&str>,
    extra: u8,
) -> Option<Deployment> {
    let mut d = Deployment::new(pattern, target)
        .ok()?
        .with_param("extra", extra)
        .ok()?;
    if let Some(team) = team {
        d = d.with_team(team, pattern).ok()?;
    }
    d.with_id(id).ok()
}

/// One pattern of one scope, with its deployments in insertion order.
struct Group {
    team: Option<String>,
    pattern: String,
    seq: u64,
    regex: Regex,
    members: Vec<Deployment>,
}

/// What a lookup returns: the pattern, and each deployment's (id, concrete model).
pub type Found = Option<(String, Vec<(String, String)>)>;

/// The reference router.
#[derive(Default)]
pub struct Reference {
    groups: Vec<Group>,
    next_seq: u64,
}

/// Why the reference refused an operation (mirrors `PatternError` kinds).
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Duplicate,
    Mismatch,
    EmptyPattern,
}

fn scope(d: &Deployment) -> (Option<String>, String) {
    match d.team() {
        Some((team, name)) => (Some(team.to_string()), name.to_string()),
        None => (None, d.model_name().to_string()),
    }
}

fn stars(s: &str) -> usize {
    s.matches('*').count()
}

impl Reference {
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.members.len()).sum()
    }

    pub fn pattern_count(&self) -> usize {
        self.groups.len()
    }

    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .groups
            .iter()
            .flat_map(|g| g.members.iter().map(|d| d.id().to_string()))
            .collect();
        ids.sort();
        ids
    }

    fn position(&self, id: &str) -> Option<(usize, usize)> {
        self.groups.iter().enumerate().find_map(|(gi, g)| {
            g.members
                .iter()
                .position(|d| d.id().as_str() == id)
                .map(|mi| (gi, mi))
        })
    }

    fn check(d: &Deployment) -> Result<(), Refused> {
        let (_, pattern) = scope(d);
        if pattern.is_empty() {
            return Err(Refused::EmptyPattern);
        }
        let target = stars(d.litellm_params().model());
        if target != 0 && target != stars(&pattern) {
            return Err(Refused::Mismatch);
        }
        Ok(())
    }

    fn push(&mut self, d: Deployment) {
        let (team, pattern) = scope(&d);
        if let Some(g) = self
            .groups
            .iter_mut()
            .find(|g| g.team == team && g.pattern == pattern)
        {
            g.members.push(d);
            return;
        }
        let literal: Vec<String> = pattern.split('*').map(regex::escape).collect();
        let regex = Regex::new(&format!("(?s)^{}$", literal.join("(.*)"))).unwrap();
        self.groups.push(Group {
            team,
            pattern,
            seq: self.next_seq,
            regex,
            members: vec![d],
        });
        self.next_seq += 1;
    }

    pub fn insert(&mut self, d: Deployment) -> Result<(), Refused> {
        Self::check(&d)?;
        if self.position(d.id().as_str()).is_some() {
            return Err(Refused::Duplicate);
        }
        self.push(d);
        Ok(())
    }

    pub fn upsert(&mut self, d: Deployment) -> Result<(), Refused> {
        Self::check(&d)?;
        match self.position(d.id().as_str()) {
            None => self.push(d),
            Some((gi, mi)) => {
                let g = &mut self.groups[gi];
                if g.members[mi] == d {
                    return Ok(());
                }
                let (team, pattern) = scope(&d);
                if g.team == team && g.pattern == pattern {
                    g.members[mi] = d;
                } else {
                    self.remove(d.id().as_str());
                    self.push(d);
                }
            }
        }
        Ok(())
    }

    pub fn remove(&mut self, id: &str) -> bool {
        let Some((gi, mi)) = self.position(id) else {
            return false;
        };
        self.groups[gi].members.remove(mi);
        if self.groups[gi].members.is_empty() {
            self.groups.remove(gi);
        }
        true
    }

    /// The best match in `team`'s scope (`None` = global), like `lookup` / `lookup_team`.
    pub fn lookup(&self, team: Option<&str>, name: &str) -> Found {
        self.lookup_all(team, name).into_iter().next()
    }

    /// Every match, most specific first.
    pub fn lookup_all(
        &self,
        team: Option<&str>,
        name: &str,
    ) -> Vec<(String, Vec<(String, String)>)> {
        let mut matching: Vec<&Group> = self
            .groups
            .iter()
            .filter(|g| g.team.as_deref() == team && g.regex.is_match(name))
            .collect();
        matching.sort_by_key(|g| {
            (
                std::cmp::Reverse(g.pattern.chars().filter(|c| *c != '*').count()),
                stars(&g.pattern),
                g.seq,
            )
        });
        matching
            .into_iter()
            .map(|g| {
                let caps = g.regex.captures(name).unwrap();
                let captured: Vec<&str> =
                    caps.iter().skip(1).map(|c| c.unwrap().as_str()).collect();
                let members = g
                    .members
                    .iter()
                    .map(|d| {
                        let target = d.litellm_params().model();
                        let model = if stars(target) == 0 {
                            target.to_string()
                        } else {
                            let mut out = String::new();
                            for (i, piece) in target.split('*').enumerate() {
                                if i > 0 {
                                    out.push_str(captured[i - 1]);
                                }
                                out.push_str(piece);
                            }
                            out
                        };
                        (d.id().to_string(), model)
                    })
                    .collect();
                (g.pattern.clone(), members)
            })
            .collect()
    }
}

/// The same view of a real PatternRouter lookup.
pub fn found(m: Option<modelroute::PatternMatch<'_>>) -> Found {
    m.map(|m| view(&m))
}

/// (pattern, [(id, model)]) of a match.
pub fn view(m: &modelroute::PatternMatch<'_>) -> (String, Vec<(String, String)>) {
    (
        m.pattern().as_str().to_string(),
        m.iter()
            .map(|d| (d.id().to_string(), d.model().to_string()))
            .collect(),
    )
}
