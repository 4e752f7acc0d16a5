//! Arbitrary text as a YAML config: the PyYAML-faithful reader never panics (aliases, merges, tags,
//! timestamps, numbers), and whatever it refuses is a syntax error with a line, never a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelroute::config::RouterConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = |name: &str| (name.len() < 8).then(|| format!("v-{name}"));
    for lenient in [false, true] {
        match RouterConfig::loader().env(&env).lenient(lenient).load_yaml(text) {
            Ok(config) => {
                let _ = config.deployments().len();
            }
            Err(e) if e.is_syntax() => assert!(e.to_string().contains("line "), "{e}"),
            Err(_) => {}
        }
    }
});
