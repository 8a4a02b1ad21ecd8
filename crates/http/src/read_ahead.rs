//! Pages fetched one ahead of their reader: while the reader works through page `k`, page
//! `k + 1` is requested and parsed on a thread of its own, so the server's time and the
//! client's parsing overlap. A page is only asked for once the reader's own rule, applied to
//! the page before it, says it will be needed: a batch that is full or a listing past its end
//! never costs a request more than reading page by page does.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::Result;
use crate::pagination::{Page, Pages};

/// What the read-ahead thread hands over: a page, or, once its rule stops it, the pages left
/// (read on the reader's thread from there, as without reading ahead).
#[derive(Debug)]
pub(crate) enum Handed {
    Page(Result<Page>),
    Rest(Pages),
}

/// The receiving end of a read-ahead thread.
pub(crate) type Ahead = Receiver<Handed>;

impl Pages {
    /// These pages, each fetched while the reader works through the one before it, for as
    /// long as `wanted` says of each page that the one after it is needed. `wanted` sees each
    /// page before its reader does, so it must answer `false` wherever the reader may stop
    /// within that page (a batch filled, a record past the read's horizon); from there on,
    /// pages are fetched as the reader pulls them. Pages come in order, the first error ends
    /// them, and dropping them stops the thread after the request in flight, if any.
    #[must_use]
    pub fn read_ahead(mut self, wanted: impl FnMut(&Page) -> bool + Send + 'static) -> Pages {
        if self.ahead.is_some() || !self.has_next() {
            return self;
        }
        // A rendezvous: the thread holds at most one page the reader has not taken.
        let (sender, receiver) = sync_channel(0);
        let span = tracing::Span::current();
        let fetching = std::mem::replace(&mut self, Pages::empty());
        std::thread::spawn(move || {
            let _in_read = span.enter();
            fetch_while(fetching, wanted, &sender);
        });
        self.ahead = Some(receiver);
        self
    }

    /// The next page from the read-ahead thread; `Err` once it handed the rest back (now
    /// in `self`).
    pub(crate) fn next_ahead(&mut self) -> std::result::Result<Option<Result<Page>>, ()> {
        let Some(ahead) = &self.ahead else {
            return Err(());
        };
        match ahead.recv() {
            Ok(Handed::Page(page)) => Ok(Some(page)),
            Ok(Handed::Rest(rest)) => {
                *self = rest;
                Err(())
            }
            // The thread ended with the pages or after an error it handed over.
            Err(_) => {
                self.ahead = None;
                Ok(None)
            }
        }
    }
}

/// Fetches page after page and hands each over, until `wanted` says no more (then the pages
/// left), the pages end or fail, or the reader is gone.
fn fetch_while(
    mut pages: Pages,
    mut wanted: impl FnMut(&Page) -> bool,
    sender: &SyncSender<Handed>,
) {
    while let Some(page) = pages.next() {
        let more = page.as_ref().is_ok_and(&mut wanted);
        if sender.send(Handed::Page(page)).is_err() {
            return;
        }
        if !more {
            let _ = sender.send(Handed::Rest(pages));
            return;
        }
    }
}
