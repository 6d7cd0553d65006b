//! Markdown from records, rendered so that it cannot carry script.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Renders `md` to HTML. Raw HTML in the input is shown as text, and the
/// result is passed through ammonia so no link, attribute or tag can run script.
pub fn to_html(md: &str) -> String {
    to_html_under(md, "/")
}

/// Like [`to_html`], for a site served from the path `base` ("/awards/"):
/// root-relative links and images ("/how-to-register/") are put under it, so
/// editors can write them as they appear at the site's root.
pub fn to_html_under(md: &str, base: &str) -> String {
    let parser =
        Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|ev| {
            match ev {
                Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => Event::Start(Tag::Link {
                    link_type,
                    dest_url: rebase(dest_url, base),
                    title,
                    id,
                }),
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => Event::Start(Tag::Image {
                    link_type,
                    dest_url: rebase(dest_url, base),
                    title,
                    id,
                }),
                other => other,
            }
        });
    let mut out = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut out, parser);
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .clean(&out)
        .to_string()
}

/// Puts a root-relative URL ("/x/", not "//host/x") under `base`.
fn rebase<'a>(url: CowStr<'a>, base: &str) -> CowStr<'a> {
    match url.strip_prefix('/') {
        Some(rest) if !rest.starts_with('/') && base != "/" => format!("{base}{rest}").into(),
        _ => url,
    }
}

/// Markdown reduced to plain text (for descriptions and feeds' summaries).
pub fn to_text(md: &str) -> String {
    let mut out = String::new();
    for ev in Parser::new(md) {
        match ev {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(_) if !out.ends_with(' ') => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_script() {
        let h = to_html(
            "hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        );
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("javascript:"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
    }

    #[test]
    fn root_relative_links_follow_the_site_path() {
        let md = "[a](/how-to-register/) [b](//cdn.example/x) [c](https://x.example/) [d](rel/)";
        let h = to_html_under(md, "/awards/");
        assert!(h.contains("href=\"/awards/how-to-register/\""), "{h}");
        assert!(!h.contains("/awards//"), "{h}");
        assert!(h.contains("href=\"https://x.example/\""), "{h}");
        assert!(h.contains("href=\"rel/\""), "{h}");
        assert!(to_html(md).contains("href=\"/how-to-register/\""));
    }

    #[test]
    fn renders_markdown() {
        assert_eq!(
            to_html("*a* **b**").trim(),
            "<p><em>a</em> <strong>b</strong></p>"
        );
        assert_eq!(to_text("First *listed*\n\nthen"), "First listed then");
    }
}
