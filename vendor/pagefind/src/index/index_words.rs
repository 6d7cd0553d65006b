use minicbor::Encode;

/// The word index chunks in `pagefind/index/`

/// A single word index chunk: `pagefind/index/*.pf_index`
#[derive(Encode)]
pub struct WordIndex {
    #[n(0)]
    pub words: Vec<PackedWord>,
}

/// A single word as an inverse index of all locations on the site
#[derive(Encode, Clone, Debug)]
pub struct PackedWord {
    #[n(0)]
    pub word: String,
    #[n(1)]
    pub pages: Vec<PackedPage>,
    #[n(2)]
    pub additional_variants: Vec<PackedVariant>,
}

/// A variant of a word with different diacritics (e.g., "café" vs "cafe")
#[derive(Encode, Clone, Debug)]
pub struct PackedVariant {
    #[n(0)]
    pub form: String,
    #[n(1)]
    pub pages: Vec<PackedPage>,
}

/// A set of locations on a given page
///
/// impala-awards patch: a page's locations and meta locations share one boxed
/// slice and the page number is 32-bit, so a posting takes 24 bytes and one
/// allocation instead of 56 bytes and two (an archive of 100,000 records has
/// 2.5 million postings). Encoded exactly as the derived `[page_number, locs,
/// meta_locs]` array was.
#[derive(Clone, Debug)]
pub struct PackedPage {
    page_number: u32,
    /// `data[..split]` are the locations, `data[split..]` the meta locations.
    split: u32,
    data: Box<[i32]>,
}

impl PackedPage {
    pub fn new(page_number: usize, locs: Vec<i32>, meta_locs: Vec<i32>) -> Self {
        let split = locs.len() as u32;
        let data = if meta_locs.is_empty() {
            locs.into_boxed_slice()
        } else {
            let mut data = Vec::with_capacity(locs.len() + meta_locs.len());
            data.extend_from_slice(&locs);
            data.extend_from_slice(&meta_locs);
            data.into_boxed_slice()
        };
        PackedPage {
            page_number: page_number as u32,
            split,
            data,
        }
    }

    pub fn page_number(&self) -> usize {
        self.page_number as usize
    }

    pub fn set_page_number(&mut self, page_number: usize) {
        self.page_number = page_number as u32;
    }

    pub fn locs(&self) -> &[i32] {
        &self.data[..self.split as usize]
    }

    pub fn meta_locs(&self) -> &[i32] {
        &self.data[self.split as usize..]
    }

    pub fn set_meta_locs(&mut self, meta_locs: Vec<i32>) {
        *self = PackedPage::new(self.page_number(), self.locs().to_vec(), meta_locs);
    }
}

impl<C> Encode<C> for PackedPage {
    fn encode<W: minicbor::encode::Write>(
        &self,
        e: &mut minicbor::Encoder<W>,
        ctx: &mut C,
    ) -> Result<(), minicbor::encode::Error<W::Error>> {
        e.array(3)?;
        self.page_number().encode(e, ctx)?;
        self.locs().encode(e, ctx)?;
        self.meta_locs().encode(e, ctx)?;
        Ok(())
    }
}
