//! `sitemap.xml` (sitemaps.org protocol 0.9) and `robots.txt`.
//!
//! A sitemap file may list at most 50,000 URLs; past that the URLs are split
//! into `sitemap-1.xml`, `sitemap-2.xml`, ... and `sitemap.xml` becomes the
//! sitemap index pointing at them.

use std::fmt::Write as _;

use super::OutFile;
use super::escape;

/// URLs per sitemap file allowed by the protocol.
pub const MAX_URLS: usize = 50_000;
/// The sitemap (or sitemap index) every crawler is pointed at.
pub const SITEMAP: &str = "sitemap.xml";
const NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// Whether an HTML page asks not to be indexed (redirect stubs do); such pages
/// stay out of the sitemap.
pub fn is_noindex(html: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"<meta name=\"robots\" content=\"noindex";
    // The tag is in the head: look only there. Searching bytes skips the UTF-8
    // check of every page's first 16 KiB (1% of a build).
    let head = &html[..html.len().min(16 * 1024)];
    let head = memchr::memmem::find(head, b"</head>").map_or(head, |end| &head[..end]);
    memchr::memmem::find(head, NEEDLE).is_some()
}

/// Site-relative URL paths of the HTML pages among `files`, sorted: every
/// `…/index.html` as its folder ("" is the home page), except noindex pages.
pub fn page_paths(files: &[OutFile]) -> Vec<String> {
    let mut paths: Vec<String> = files
        .iter()
        .filter(|f| f.path == "index.html" || f.path.ends_with("/index.html"))
        .filter(|f| !is_noindex(&f.bytes))
        .map(|f| f.path[..f.path.len() - "index.html".len()].to_string())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

fn urlset(base_url: &str, paths: &[String]) -> String {
    let mut x = String::with_capacity(128 + paths.len() * 96);
    let _ = writeln!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"{NS}\">"
    );
    for p in paths {
        let _ = writeln!(
            x,
            "  <url><loc>{}</loc></url>",
            escape::xml(&loc(base_url, p))
        );
    }
    x.push_str("</urlset>\n");
    x
}

/// Absolute URL of a site path, percent-encoding what a URL may not hold raw.
fn loc(base_url: &str, path: &str) -> String {
    let mut s = String::with_capacity(base_url.len() + path.len());
    s.push_str(base_url);
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            s.push(char::from(b));
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

/// The sitemap files for `pages` (site-relative paths), at most `limit` URLs
/// per file: one `sitemap.xml`, or numbered files and an index.
pub fn sitemaps(base_url: &str, pages: &[String], limit: usize) -> Vec<OutFile> {
    let limit = limit.max(1);
    if pages.len() <= limit {
        return vec![OutFile {
            path: SITEMAP.into(),
            bytes: urlset(base_url, pages).into_bytes(),
        }];
    }
    let mut out = Vec::new();
    let mut index = String::new();
    let _ = writeln!(
        index,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"{NS}\">"
    );
    for (i, chunk) in pages.chunks(limit).enumerate() {
        let path = format!("sitemap-{}.xml", i + 1);
        let _ = writeln!(
            index,
            "  <sitemap><loc>{}</loc></sitemap>",
            escape::xml(&format!("{base_url}{path}"))
        );
        out.push(OutFile {
            path,
            bytes: urlset(base_url, chunk).into_bytes(),
        });
    }
    index.push_str("</sitemapindex>\n");
    out.push(OutFile {
        path: SITEMAP.into(),
        bytes: index.into_bytes(),
    });
    out
}

/// `robots.txt`: everything may be crawled; the sitemap is named by absolute URL.
pub fn robots(base_url: &str) -> OutFile {
    OutFile {
        path: "robots.txt".into(),
        bytes: format!("User-agent: *\nAllow: /\n\nSitemap: {base_url}{SITEMAP}\n").into_bytes(),
    }
}

/// Sitemap(s) and robots.txt for the pages among `files`.
pub fn files(files: &[OutFile], base_url: &str, limit: usize) -> Vec<OutFile> {
    let mut out = sitemaps(base_url, &page_paths(files), limit);
    out.push(robots(base_url));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(path: &str, html: &str) -> OutFile {
        OutFile {
            path: path.into(),
            bytes: html.as_bytes().to_vec(),
        }
    }

    #[test]
    fn lists_pages_only() {
        let files = [
            page("index.html", "<p>home"),
            page("releases/a/index.html", "<p>a"),
            page("releases/a/data.json", "{}"),
            page("404.html", "<p>gone"),
            page(
                "releases/old/index.html",
                "<meta name=\"robots\" content=\"noindex\">",
            ),
            page("assets/style.css", ""),
        ];
        assert_eq!(page_paths(&files), ["", "releases/a/"]);
    }

    #[test]
    fn one_file_up_to_the_limit() {
        let pages: Vec<String> = vec!["".into(), "a/".into(), "b/".into()];
        let out = sitemaps("https://x.example/sub/", &pages, 3);
        assert_eq!(out.len(), 1);
        let xml = String::from_utf8(out[0].bytes.clone()).unwrap();
        assert!(xml.contains("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"));
        assert_eq!(xml.matches("<url>").count(), 3);
        assert!(xml.contains("<loc>https://x.example/sub/</loc>"));
        assert!(xml.contains("<loc>https://x.example/sub/b/</loc>"));
    }

    #[test]
    fn splits_past_the_limit_with_an_index() {
        let pages: Vec<String> = (0..7).map(|i| format!("p{i}/")).collect();
        let out = sitemaps("https://x.example/", &pages, 3);
        let paths: Vec<&str> = out.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "sitemap-1.xml",
                "sitemap-2.xml",
                "sitemap-3.xml",
                "sitemap.xml"
            ]
        );
        let text = |i: usize| String::from_utf8(out[i].bytes.clone()).unwrap();
        assert_eq!(text(0).matches("<url>").count(), 3);
        assert_eq!(text(1).matches("<url>").count(), 3);
        assert_eq!(text(2).matches("<url>").count(), 1);
        assert!(text(2).contains("<loc>https://x.example/p6/</loc>"));
        let index = text(3);
        assert!(index.contains("<sitemapindex"));
        assert_eq!(index.matches("<sitemap>").count(), 3);
        assert!(index.contains("<loc>https://x.example/sitemap-3.xml</loc>"));
        // Every page is listed exactly once across the parts.
        let all: String = (0..3).map(text).collect();
        for p in &pages {
            assert_eq!(all.matches(&format!("/{p}</loc>")).count(), 1, "{p}");
        }
    }

    #[test]
    fn escapes_and_encodes_urls() {
        assert_eq!(
            loc("https://x.example/", "a b/"),
            "https://x.example/a%20b/"
        );
        let out = sitemaps("https://x.example/?a=1&b=2/", &["".into()], 10);
        let xml = String::from_utf8(out[0].bytes.clone()).unwrap();
        assert!(xml.contains("?a=1&amp;b=2/"));
    }

    #[test]
    fn robots_names_the_sitemap() {
        let r = robots("https://x.example/sub/");
        assert_eq!(
            String::from_utf8(r.bytes).unwrap(),
            "User-agent: *\nAllow: /\n\nSitemap: https://x.example/sub/sitemap.xml\n"
        );
    }
}
