"""CommonMark with GitHub's tables and strikethrough, parsed by cmark-gfm (C) and freed after use.

The C library comes with the ``cmarkgfm`` package. Its Python wrapper
(``cmarkgfm.markdown_to_html_with_extensions``) never frees the syntax tree or the HTML buffer
the library hands back: measured here, about 90 KB a call for a card with a table, so a worker
would grow without bound. This module calls the same compiled library through its own cffi
declarations (ABI mode, on the library ``cmarkgfm`` already loaded) and frees both, with the
library's own allocator for the buffer.

The parse is linear in the text (cmark-gfm 0.29.0.gfm.13, which fixed the quadratic-input
reports against the tables, emphasis and block-quote parsers). Raw HTML is passed through
(``CMARK_OPT_UNSAFE``): the caller sanitizes the output, as it did with markdown-it-py.
"""

from __future__ import annotations

from typing import Any

import cffi
from cmarkgfm import _cmark as _compiled
from cmarkgfm.cmark import Options

__all__ = ["commonmark_to_html"]

_FFI = cffi.FFI()
_FFI.cdef(
    """
    typedef struct cmark_node cmark_node;
    typedef struct cmark_parser cmark_parser;
    typedef struct cmark_syntax_extension cmark_syntax_extension;
    typedef struct _cmark_llist cmark_llist;
    typedef struct cmark_mem {
      void *(*calloc)(size_t, size_t);
      void *(*realloc)(void *, size_t);
      void (*free)(void *);
    } cmark_mem;
    cmark_mem *cmark_get_default_mem_allocator(void);
    void cmark_gfm_core_extensions_ensure_registered(void);
    cmark_syntax_extension *cmark_find_syntax_extension(const char *name);
    cmark_parser *cmark_parser_new(int options);
    int cmark_parser_attach_syntax_extension(cmark_parser *parser,
                                             cmark_syntax_extension *extension);
    void cmark_parser_feed(cmark_parser *parser, const char *buffer, size_t len);
    cmark_node *cmark_parser_finish(cmark_parser *parser);
    cmark_llist *cmark_parser_get_syntax_extensions(cmark_parser *parser);
    char *cmark_render_html(cmark_node *root, int options, cmark_llist *extensions);
    void cmark_node_free(cmark_node *node);
    void cmark_parser_free(cmark_parser *parser);
    """
)
_LIB: Any = _FFI.dlopen(_compiled.__file__)
# Registration writes a process-wide list: done once here, at import, not per call.
_LIB.cmark_gfm_core_extensions_ensure_registered()
_EXTENSIONS = [_LIB.cmark_find_syntax_extension(name) for name in (b"table", b"strikethrough")]
if any(extension == _FFI.NULL for extension in _EXTENSIONS):  # pragma: no cover - packaging
    raise ImportError("cmark-gfm was built without its table/strikethrough extensions")
_FREE = _LIB.cmark_get_default_mem_allocator().free
# Raw HTML through (sanitized by the caller); strikethrough needs "~~", as in markdown-it-py,
# so a single "~" ("~5 ms") stays text.
_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE


def commonmark_to_html(text: str) -> str:
    """Return the HTML cmark-gfm makes of ``text`` (CommonMark + tables + ``~~strike~~``).

    Raw HTML in ``text`` is kept: the result is not safe to show until sanitized.
    Raises UnicodeEncodeError for a string holding lone surrogates (not encodable as UTF-8).
    """
    data = text.encode("utf-8")
    parser = _LIB.cmark_parser_new(_OPTIONS)
    if parser == _FFI.NULL:  # pragma: no cover - out of memory
        raise MemoryError("cmark_parser_new failed")
    try:
        for extension in _EXTENSIONS:
            _LIB.cmark_parser_attach_syntax_extension(parser, extension)
        _LIB.cmark_parser_feed(parser, data, len(data))
        root = _LIB.cmark_parser_finish(parser)
        if root == _FFI.NULL:  # pragma: no cover - out of memory
            raise MemoryError("cmark_parser_finish failed")
        try:
            buffer = _LIB.cmark_render_html(
                root, _OPTIONS, _LIB.cmark_parser_get_syntax_extensions(parser)
            )
            if buffer == _FFI.NULL:  # pragma: no cover - out of memory
                raise MemoryError("cmark_render_html failed")
            try:
                return bytes(_FFI.string(buffer)).decode("utf-8")
            finally:
                _FREE(buffer)
        finally:
            _LIB.cmark_node_free(root)
    finally:
        _LIB.cmark_parser_free(parser)
