#!/usr/bin/env python3
"""tests/report/check_dom.py FILE — facts about an HTML document (a report as
written, or as Chromium's --dump-dom printed it after loading), as one JSON
object for tests/suites/report.sh to check with jq:

  tags        element count by tag name, and "total"
  ids         every id
  handlers    attributes whose name starts with "on" (event handlers)
  external    src/href/xlink:href/action values that are not "#fragments"
  scripts     number of <script> elements
  body        the attributes of <body>
  title       the text of <title>
  render      the data-* attributes of #render-ms (the page's load-time marker)
  lists       number of <li> in each <ol> that has an id
  scatter     points in #chart-scatter: segments of its <path> plus <circle>s
  text        text of elements by id, for the ids given with --text ID
Standard library only.
"""
import json
import sys
from html.parser import HTMLParser


class Facts(HTMLParser):
    def __init__(self, want_text):
        super().__init__(convert_charrefs=True)
        self.tags = {}
        self.ids = []
        self.handlers = []
        self.external = []
        self.body = {}
        self.title = ""
        self.render = {}
        self.lists = {}
        self.stack = []          # (tag, id) of open elements
        self.in_title = False
        self.in_scatter = 0
        self.scatter = 0
        self.want_text = set(want_text)
        self.text = {i: "" for i in want_text}

    VOID = {"br", "meta", "img", "input", "link", "hr", "wbr", "source", "area", "col", "embed"}

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, self_closing=tag in self.VOID)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, self_closing=True)

    def _start(self, tag, attrs, self_closing):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            if k.startswith("on"):
                self.handlers.append(k)
            if k in ("src", "href", "xlink:href", "action", "srcset", "poster", "data") and v and not v.startswith("#"):
                self.external.append(v)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "body":
            self.body = a
        if a.get("id") == "render-ms":
            self.render = {k: v for k, v in attrs if k.startswith("data-")}
        if tag == "li":
            for t, i in reversed(self.stack):
                if t == "ol":
                    if i:
                        self.lists[i] = self.lists.get(i, 0) + 1
                    break
        if self.in_scatter:
            if tag == "path":
                self.scatter += (a.get("d") or "").count("M")
            elif tag == "circle":
                self.scatter += 1
        if a.get("id") == "chart-scatter":
            self.in_scatter += 1
        if tag == "title" and not self.stack_has("svg"):
            self.in_title = True
        if not self_closing:
            self.stack.append((tag, a.get("id")))

    def stack_has(self, tag):
        return any(t == tag for t, _ in self.stack)

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        for n in range(len(self.stack) - 1, -1, -1):
            if self.stack[n][0] == tag:
                if self.stack[n][1] == "chart-scatter":
                    self.in_scatter -= 1
                del self.stack[n:]
                break

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        for _, i in self.stack:
            if i in self.want_text:
                self.text[i] += data


def main():
    args = sys.argv[1:]
    want = []
    while len(args) >= 2 and args[0] == "--text":
        want.append(args[1])
        args = args[2:]
    with open(args[0], encoding="utf-8") as f:  # a report must be valid UTF-8
        doc = f.read()
    p = Facts(want)
    p.feed(doc)
    p.close()
    tags = dict(p.tags)
    tags["total"] = sum(p.tags.values())
    print(json.dumps({
        "tags": tags, "ids": p.ids, "handlers": p.handlers, "external": p.external,
        "scripts": p.tags.get("script", 0), "body": p.body, "title": p.title,
        "render": p.render, "lists": p.lists, "scatter": p.scatter, "text": p.text,
    }))


main()
