use std::path::PathBuf;
use std::time::Duration;

use crate::index::PagefindIndexes;
use crate::{SearchOptions, PAGEFIND_VERSION};
use flate2::Compression;
use futures::future::join_all;
use std::collections::BTreeMap;
use include_dir::{include_dir, Dir};
use minifier::js::minify;
use tokio::fs::{create_dir_all, File};
use tokio::io::AsyncWriteExt;
use tokio::time::sleep;

mod entry;

const GENERIC_WEB_WASM: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/wasm/pagefind_web_bg.unknown.",
    env!("CARGO_PKG_VERSION"),
    ".wasm.gz"
));
const WEB_WASM_FILES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/vendor/wasm");

const WEB_JS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/pagefind_web.",
    env!("CARGO_PKG_VERSION"),
    ".js"
));
const WEB_UI_JS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/pagefind_ui.",
    env!("CARGO_PKG_VERSION"),
    ".js"
));
const WEB_UI_CSS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/pagefind_ui.",
    env!("CARGO_PKG_VERSION"),
    ".css"
));
const WEB_MODULAR_UI_JS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/pagefind_modular_ui.",
    env!("CARGO_PKG_VERSION"),
    ".js"
));
const WEB_MODULAR_UI_CSS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/pagefind_modular_ui.",
    env!("CARGO_PKG_VERSION"),
    ".css"
));
const COMPONENT_UI_JS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/pagefind_component_ui.",
    env!("CARGO_PKG_VERSION"),
    ".js"
));
const COMPONENT_UI_CSS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/pagefind_component_ui.",
    env!("CARGO_PKG_VERSION"),
    ".css"
));
const SEARCH_JS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/pagefind_public_search_api.",
    env!("CARGO_PKG_VERSION"),
    ".js"
));
const HIGHLIGHT_JS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/pagefind_highlight.",
    env!("CARGO_PKG_VERSION"),
    ".js"
));
const WORKER_JS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/vendor/pagefind_worker.",
    env!("CARGO_PKG_VERSION"),
    ".js"
));

pub struct LanguageMeta {
    pub page_count: usize,
    pub language: String,
    pub hash: String,
    pub wasm: Option<String>,
}

pub async fn write_common_to_disk(
    language_indexes: Vec<LanguageMeta>,
    output_playground: bool,
    outdir: &PathBuf,
    options: &SearchOptions,
) {
    write_common(language_indexes, output_playground, outdir, options, false).await;
}

pub async fn write_common_to_memory(
    language_indexes: Vec<LanguageMeta>,
    output_playground: bool,
    outdir: &PathBuf,
    options: &SearchOptions,
) -> Vec<SyntheticFile> {
    write_common(language_indexes, output_playground, outdir, options, true)
        .await
        .unwrap()
}

async fn write_common(
    language_indexes: Vec<LanguageMeta>,
    output_playground: bool,
    outdir: &PathBuf,
    options: &SearchOptions,
    synthetic: bool,
) -> Option<Vec<SyntheticFile>> {
    let js_version = format!("const pagefind_version = \"{PAGEFIND_VERSION}\";");
    let mut js = vec![];
    minify(&format!("{js_version}\n{WEB_JS}\n{SEARCH_JS}"))
        .expect("Minifying Pagefind JS failed")
        .write(&mut js)
        .expect("Writing minified Pagefind JS failed");

    let mut worker_js = vec![];
    minify(&format!(
        "{js_version}\n{WEB_JS}\n{}",
        String::from_utf8_lossy(WORKER_JS)
    ))
    .expect("Minifying Pagefind Worker JS failed")
    .write(&mut worker_js)
    .expect("Writing minified Pagefind Worker JS failed");

    let entry_meta = entry::PagefindEntryMeta {
        version: PAGEFIND_VERSION,
        languages: BTreeMap::from_iter(language_indexes.into_iter().map(|i| {
            (
                i.language,
                entry::PagefindEntryLanguage {
                    hash: i.hash,
                    wasm: i.wasm,
                    page_count: i.page_count,
                },
            )
        })),
        include_characters: options.include_characters.clone(),
    };
    let encoded_entry_meta = serde_json::to_string(&entry_meta).unwrap();

    let write_behavior = if synthetic {
        WriteBehavior::Synthetic
    } else {
        WriteBehavior::Disk
    };

    let mut files = vec![
        write(
            outdir.join("pagefind.js"),
            vec![&js],
            Compress::None,
            write_behavior,
        ),
        write(
            outdir.join("pagefind-highlight.js"),
            vec![HIGHLIGHT_JS],
            Compress::None,
            write_behavior,
        ),
        write(
            outdir.join("pagefind-worker.js"),
            vec![&worker_js],
            Compress::None,
            write_behavior,
        ),
        write(
            outdir.join("pagefind-ui.js"),
            vec![WEB_UI_JS],
            Compress::None,
            write_behavior,
        ),
        write(
            outdir.join("pagefind-ui.css"),
            vec![WEB_UI_CSS],
            Compress::None,
            write_behavior,
        ),
        write(
            outdir.join("pagefind-modular-ui.js"),
            vec![WEB_MODULAR_UI_JS],
            Compress::None,
            write_behavior,
        ),
        write(
            outdir.join("pagefind-modular-ui.css"),
            vec![WEB_MODULAR_UI_CSS],
            Compress::None,
            write_behavior,
        ),
        write(
            outdir.join("pagefind-component-ui.js"),
            vec![COMPONENT_UI_JS],
            Compress::None,
            write_behavior,
        ),
        write(
            outdir.join("pagefind-component-ui.css"),
            vec![COMPONENT_UI_CSS],
            Compress::None,
            write_behavior,
        ),
        write(
            outdir.join("wasm.unknown.pagefind"),
            vec![GENERIC_WEB_WASM],
            Compress::None,
            write_behavior,
        ),
        write(
            outdir.join("pagefind-entry.json"),
            vec![encoded_entry_meta.as_bytes()],
            Compress::None,
            write_behavior,
        ),
    ];

    if output_playground {
        files.extend([
            write(
                outdir.join("playground/index.html"),
                vec![crate::playground::PLAYGROUND_HTML.as_bytes()],
                Compress::None,
                write_behavior,
            ),
            write(
                outdir.join("playground/pagefind-playground.js"),
                vec![crate::playground::PLAYGROUND_JS.as_bytes()],
                Compress::None,
                write_behavior,
            ),
            write(
                outdir.join("playground/pagefind-playground.css"),
                vec![crate::playground::PLAYGROUND_CSS.as_bytes()],
                Compress::None,
                write_behavior,
            ),
        ]);
    }

    let output_files = join_all(files).await;

    if synthetic {
        Some(output_files.into_iter().flatten().collect())
    } else {
        None
    }
}

impl PagefindIndexes {
    fn lang_wasm_path(&self) -> Option<String> {
        let base_language = self.language.split('-').next().unwrap();
        let wasm_path = format!(
            "pagefind_web_bg.{}.{}.wasm.gz",
            base_language,
            env!("CARGO_PKG_VERSION")
        );

        if WEB_WASM_FILES.contains(&wasm_path) {
            Some(wasm_path)
        } else {
            None
        }
    }

    pub fn get_lang_meta(&self, options: &SearchOptions) -> LanguageMeta {
        let mut wasm_file = None;

        if self.language != "unknown" {
            if self.lang_wasm_path().is_some() {
                wasm_file = Some(self.language.to_string());
            } else {
                options.logger.v_warn(format!(
                    "Note: Pagefind doesn't support stemming for the language {}. \n\
                    Search will still work, but will not match across root words.",
                    self.language
                ));
            }
        }

        LanguageMeta {
            page_count: self.page_count,
            language: self.language.clone(),
            hash: self.meta_index.0.clone(),
            wasm: wasm_file,
        }
    }

    pub async fn write_files_to_disk(&self, options: &SearchOptions, outdir: &PathBuf) {
        self.write_files(options, outdir, None).await;
    }

    pub async fn write_files_to_memory(
        &self,
        options: &SearchOptions,
        outdir: &PathBuf,
        known: &Known<'_>,
    ) -> Vec<SyntheticFile> {
        self.write_files(options, outdir, Some(known)).await.unwrap()
    }

    /// `known` is given for files made in memory (synthetic), `None` on disk.
    async fn write_files(
        &self,
        options: &SearchOptions,
        outdir: &PathBuf,
        known: Option<&Known<'_>>,
    ) -> Option<Vec<SyntheticFile>> {
        let synthetic = known.is_some();
        let immutable_write_behaviour = if synthetic {
            WriteBehavior::Synthetic
        } else {
            WriteBehavior::Immutable
        };

        // impala-awards patch: every file is listed first, then written. In
        // memory nothing awaits, so `join_all` compressed the files one after
        // another on the runtime's thread (3.3 s of a 100k build); they are
        // compressed on every core instead, in the same order.
        let mut jobs: Vec<(PathBuf, Vec<&[u8]>, Compress, WriteBehavior)> = vec![(
            outdir.join(format!("pagefind.{}.pf_meta", &self.meta_index.0)),
            vec![&self.meta_index.1],
            Compress::GZ,
            immutable_write_behaviour,
        )];

        if self.language != "unknown" {
            if let Some(wasm_path) = self.lang_wasm_path() {
                jobs.push((
                    outdir.join(format!("wasm.{}.pagefind", self.language)),
                    vec![WEB_WASM_FILES
                        .get_file(wasm_path)
                        .expect("WASM should exist")
                        .contents()],
                    Compress::None,
                    if synthetic {
                        WriteBehavior::Synthetic
                    } else {
                        WriteBehavior::Disk
                    },
                ));
            } else {
                options.logger.v_warn(format!(
                    "Note: Pagefind doesn't support stemming for the language {}. \n\
                    Search will still work, but will not match across root words.",
                    self.language
                ));
            }
        }

        jobs.extend(self.fragments.iter().map(|(hash, fragment)| {
            (
                outdir.join(format!("fragment/{}.pf_fragment", hash)),
                vec![fragment.as_bytes()],
                Compress::GZ,
                immutable_write_behaviour,
            )
        }));

        jobs.extend(self.word_indexes.iter().map(|(hash, index)| {
            (
                outdir.join(format!("index/{}.pf_index", hash)),
                vec![index.as_slice()],
                Compress::GZ,
                immutable_write_behaviour,
            )
        }));

        jobs.extend(self.filter_indexes.iter().map(|(hash, index)| {
            (
                outdir.join(format!("filter/{}.pf_filter", hash)),
                vec![index.as_slice()],
                Compress::GZ,
                immutable_write_behaviour,
            )
        }));

        if let Some(known) = known {
            use rayon::prelude::*;
            return Some(
                jobs.into_par_iter()
                    .filter_map(|(filename, chunks, compression, _)| {
                        synthetic_file(filename, chunks, compression, known)
                    })
                    .collect(),
            );
        }
        let files = jobs
            .into_iter()
            .map(|(filename, chunks, compression, behaviour)| {
                write(filename, chunks, compression, behaviour)
            });
        join_all(files).await;
        None
    }
}

#[derive(Copy, Clone)]
enum Compress {
    GZ,
    None,
}

#[derive(Copy, Clone)]
enum WriteBehavior {
    Synthetic,
    Immutable,
    Disk,
}

/// impala-awards patch: given a file's path and its uncompressed bytes (in
/// parts), its gzipped bytes if they are known already, from an earlier index.
pub type Known<'a> = dyn Fn(&std::path::Path, &[&[u8]]) -> Option<Vec<u8>> + Sync + 'a;

#[derive(Clone)]
pub struct SyntheticFile {
    pub filename: PathBuf,
    pub contents: Vec<u8>,
}

async fn write(
    filename: PathBuf,
    content_chunks: Vec<&[u8]>,
    compression: Compress,
    write_behavior: WriteBehavior,
) -> Option<SyntheticFile> {
    // impala-awards patch: a file made in memory returns here, so below
    // there is always a file on disk to write.
    let mut file = match write_behavior {
        WriteBehavior::Synthetic => {
            return synthetic_file(filename, content_chunks, compression, &|_, _| None);
        }
        // For "immutable" (hashed) files, don't re-write them as the contents _should_ be unchanged.
        WriteBehavior::Immutable if filename.exists() => return None,
        WriteBehavior::Immutable | WriteBehavior::Disk => {
            if let Some(parent) = filename.parent() {
                create_dir_all(parent).await.unwrap();
            }

            loop {
                match File::create(&filename).await {
                    Ok(f) => break f,
                    Err(_) => sleep(Duration::from_millis(100)).await,
                }
            }
        }
    };

    match compression {
        Compress::GZ => {
            if let Ok(contents) = gzip(&content_chunks) {
                file.write_all(&contents).await.unwrap();
                // `write_all` resolving only means the bytes are in tokio's
                // buffer; the blocking-pool write to disk may still be in
                // flight. Flush before the file drops, or a service-mode
                // consumer can receive the WriteFiles acknowledgement and
                // close the process while a file is half written, shipping
                // a truncated asset.
                file.flush().await.unwrap();
            }
        }
        Compress::None => {
            for chunk in content_chunks {
                file.write_all(chunk).await.unwrap();
            }
            file.flush().await.unwrap();
        }
    }
    None
}

/// impala-awards patch: the file `write` makes in memory, without a runtime,
/// its gzipped bytes taken from `known` when it has them. As before, a file
/// that fails to compress is left out.
fn synthetic_file(
    filename: PathBuf,
    chunks: Vec<&[u8]>,
    compression: Compress,
    known: &Known<'_>,
) -> Option<SyntheticFile> {
    let contents = match compression {
        Compress::GZ => known(&filename, &chunks).or_else(|| gzip(&chunks).ok())?,
        Compress::None => chunks.concat(),
    };
    Some(SyntheticFile { filename, contents })
}

/// Each chunk after Pagefind's marker, gzipped: the bytes `GzEncoder` at the
/// default level makes (header without a name or time, raw deflate, CRC-32
/// and length).
///
/// impala-awards patch: through one deflate state per thread, reset for each
/// file, instead of a new `GzEncoder` per file; each new state allocated and
/// zeroed some 300 KB, fresh memory for most of a bundle's thousands of files.
fn gzip(chunks: &[&[u8]]) -> std::io::Result<Vec<u8>> {
    use flate2::{Compress, Crc, FlushCompress, Status};
    use std::cell::RefCell;
    const MARKER: &[u8] = b"pagefind_dcd";
    // What `GzBuilder::new()` writes for the default level: no flags, no
    // mtime, no extra flags, OS 255 ("unknown").
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    thread_local! {
        static DEFLATE: RefCell<Option<(Compress, Vec<u8>)>> = const { RefCell::new(None) };
    }
    // Each call gets an empty buffer of `GzEncoder`'s 32 KiB, as there: the
    // deflate stream depends on how much room each call has.
    fn deflate(
        z: &mut Compress,
        mut input: &[u8],
        room: &mut Vec<u8>,
        out: &mut Vec<u8>,
        flush: FlushCompress,
    ) -> std::io::Result<()> {
        loop {
            room.clear();
            let before = z.total_in();
            let status = z
                .compress_vec(input, room, flush)
                .map_err(std::io::Error::other)?;
            out.extend_from_slice(room);
            input = &input[(z.total_in() - before) as usize..];
            let done = match flush {
                FlushCompress::Finish => status == Status::StreamEnd,
                _ => input.is_empty(),
            };
            if done {
                return Ok(());
            }
        }
    }
    let size: usize = chunks.iter().map(|c| c.len() + MARKER.len()).sum();
    let mut out = Vec::with_capacity(size / 3 + 64);
    out.extend_from_slice(&HEADER);
    let mut crc = Crc::new();
    DEFLATE.with(|cell| {
        let mut cell = cell.borrow_mut();
        let (z, room) = cell.get_or_insert_with(|| {
            (
                Compress::new(Compression::default(), false),
                Vec::with_capacity(32 * 1024),
            )
        });
        z.reset();
        for chunk in chunks {
            for piece in [MARKER, *chunk] {
                crc.update(piece);
                deflate(z, piece, room, &mut out, FlushCompress::None)?;
            }
        }
        deflate(z, &[], room, &mut out, FlushCompress::Finish)
    })?;
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    Ok(out)
}
