//! The home page in a real browser (Debian's Chromium, headless): the browser's own
//! Accept-Language drives negotiation, and the DOM it builds is right-to-left for Arabic.
//! A screenshot per edge lands in `target/stack-test/` for a human look.

use std::process::Command;

use telemed_e2e::{EDGES, stack};
use telemed_shared::i18n::{Arg, locale::Locale, message};

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium(lang: &str, url: &str, extra: &[String]) -> String {
    let profile =
        std::env::temp_dir().join(format!("telemed-chromium-{lang}-{}", std::process::id()));
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=900,640",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--accept-lang={lang}"))
        .args(extra)
        .arg(url)
        .output()
        .expect("running chromium (installed by cargo xtask test)");
    let _ = std::fs::remove_dir_all(profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("DOM is UTF-8")
}

#[test]
fn the_browser_renders_arabic_right_to_left_and_english_left_to_right() {
    for edge in EDGES {
        // Chromium resolves *.localhost to loopback itself, as browsers do.
        let url = format!("http://{}/", edge.host_for("hopital-paris"));
        for (lang, tag, dir) in [("ar-MA,ar", "ar", "rtl"), ("en-GB,en", "en", "ltr")] {
            let dom = chromium(lang, &url, &["--dump-dom".into()]);
            assert!(
                dom.contains(&format!(r#"<html lang="{tag}" dir="{dir}">"#)),
                "{edge:?} {lang}: {dom}"
            );
            let greeting = message(
                Locale::from_tag(tag).unwrap(),
                "home-greeting",
                &[("clinic", Arg::Str("Hôpital Paris Santé"))],
            );
            assert!(dom.contains(&greeting), "{edge:?} {lang}: greeting missing");
        }
        let shot = stack()
            .logs_dir
            .parent()
            .unwrap()
            .join(format!("home-ar-{edge:?}.png"));
        chromium("ar", &url, &[format!("--screenshot={}", shot.display())]);
        let png = std::fs::read(&shot).expect("screenshot written");
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "{edge:?}: an empty screenshot"
        );
    }
}
