//! Readers route while a writer reconciles many times: every answer must come from one consistent version
//! (old or new, never a mix), and never name a deployment removed before the answer was asked for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use modelroute::router::{RequestContext, RouterSettings, RoutingStrategy};
use modelroute::{Deployment, Router};

const NONE: RequestContext<'static> = RequestContext::new();
const VERSIONS: u64 = 300;

/// Version `v`: four stable ids (updated in place every version), two ids that live for one version only,
/// all in group "chat" and in wildcard "wild/*" (whose target changes with the version); the list order
/// flips every other version. Every deployment carries `version: v`.
fn version(v: u64) -> Vec<Deployment> {
    let mut ids: Vec<String> = (0..4).map(|i| format!("s{i}")).collect();
    ids.push(format!("k{v}-0"));
    ids.push(format!("k{v}-1"));
    if v % 2 == 1 {
        ids.reverse();
    }
    let mut out = Vec::new();
    for id in &ids {
        out.push(
            Deployment::new("chat", format!("openai/{id}"))
                .unwrap()
                .with_param("version", v)
                .unwrap()
                .with_id(format!("chat-{id}"))
                .unwrap(),
        );
        out.push(
            Deployment::new("wild/*", format!("prov-{v}/*"))
                .unwrap()
                .with_param("version", v)
                .unwrap()
                .with_id(format!("wild-{id}"))
                .unwrap(),
        );
    }
    out
}

fn expected_ids(v: u64, prefix: &str) -> Vec<String> {
    version(v)
        .iter()
        .map(|d| d.id().to_string())
        .filter(|id| id.starts_with(prefix))
        .collect()
}

fn version_of(d: &Deployment) -> u64 {
    d.litellm_params()
        .get("version")
        .and_then(|v| v.as_u64())
        .expect("version param")
}

#[test]
fn readers_never_see_a_mix_or_a_removed_deployment() {
    let router = Arc::new(
        Router::builder()
            .settings(RouterSettings::default().with_strategy(RoutingStrategy::LeastBusy))
            .deployments(version(0))
            .seed(5)
            .build()
            .unwrap(),
    );
    let published = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(60);

    let readers: Vec<_> = (0..2)
        .map(|reader| {
            let (router, published, done) = (router.clone(), published.clone(), done.clone());
            std::thread::spawn(move || {
                let mut checks = 0u64;
                while !done.load(Ordering::Acquire) && Instant::now() < deadline {
                    let before = published.load(Ordering::Acquire);
                    // A whole group, as one answer: one version, that version's ids, in its order.
                    let res = router.explain("chat", &NONE).expect("chat always resolves");
                    let wild = router
                        .route("wild/gpt-4o", &NONE)
                        .expect("wild always resolves");
                    let route = router.route("chat", &NONE).expect("chat always routes");
                    let after = published.load(Ordering::Acquire);

                    let v = version_of(&res.candidates[0].deployment);
                    assert!(
                        before <= v && v <= after + 1,
                        "reader {reader}: version {v} outside [{before}, {}]",
                        after + 1
                    );
                    let got: Vec<String> = res
                        .candidates
                        .iter()
                        .map(|c| c.deployment.id().to_string())
                        .collect();
                    assert_eq!(
                        got,
                        expected_ids(v, "chat-"),
                        "reader {reader}: group of version {v} mixed up"
                    );
                    assert!(
                        res.candidates
                            .iter()
                            .all(|c| version_of(&c.deployment) == v),
                        "mixed versions"
                    );

                    for (d, model) in [
                        (wild.deployment(), Some(wild.model())),
                        (route.deployment(), None),
                    ] {
                        let dv = version_of(d);
                        assert!(
                            before <= dv && dv <= after + 1,
                            "routed to version {dv} outside [{before}, {}]",
                            after + 1
                        );
                        assert!(
                            expected_ids(dv, "").contains(&d.id().to_string()),
                            "{} not in version {dv}",
                            d.id()
                        );
                        if let Some(model) = model {
                            assert_eq!(model, format!("prov-{dv}/gpt-4o"), "half-updated wildcard");
                        }
                    }
                    checks += 1;
                }
                checks
            })
        })
        .collect();

    for v in 1..=VERSIONS {
        let report = router.reconcile(version(v)).unwrap();
        assert_eq!(
            (report.added, report.removed, report.updated),
            (4, 4, 8),
            "version {v}"
        );
        published.store(v, Ordering::Release);
        if Instant::now() > deadline {
            break;
        }
    }
    done.store(true, Ordering::Release);
    let checks: u64 = readers
        .into_iter()
        .map(|h| h.join().expect("reader panicked"))
        .sum();
    assert!(checks > 0, "the readers ran");
    assert_eq!(
        published.load(Ordering::Relaxed),
        VERSIONS,
        "all versions applied within the time bound"
    );
    // Nothing leaked: every in-flight count is back to zero, and only the last version is held.
    for d in router.deployments() {
        assert_eq!(version_of(&d), VERSIONS);
        assert_eq!(router.health(d.id()).unwrap().in_flight, 0);
    }
    assert_eq!(router.len(), 12);
}
