#!/usr/bin/env python3
"""Loads an HTML page in headless Chromium and reports what a reader would meet.

Usage: browser_check.py PAGE.html SCREENSHOT.png [PICTURE.png]

Chromium is driven through the DevTools protocol over a pipe (--remote-debugging-pipe:
JSON messages separated by NUL bytes on file descriptors 3 and 4), so nothing beyond the
standard library and the browser is needed. Prints one JSON object:

  errors    console errors, uncaught exceptions and failed loads, as the browser logged them
  requests  every URL the page asked for other than itself (an external fetch would show here)
  charts    per <svg class="chart">: its <title>, its axis labels, and whether the browser laid
            out each axis label with a non-zero box (drawn, not merely present in the text)
  png       the screenshot's size and a pixel statistic: the share of pixels that are not
            background, and the number of distinct colours

SCREENSHOT.png is the whole page at half scale; PICTURE.png, when asked for, the top of the
page (up to 2,200 pixels) at full scale, for reading (the README's picture).
"""

import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

CHART_PROBE = r"""
JSON.stringify([...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const labels = [...svg.querySelectorAll('text.axis-label')].map(t => {
    const b = t.getBBox();
    return {text: t.textContent, drawn: b.width > 0 && b.height > 0};
  });
  return {
    title: (svg.querySelector('title') || {}).textContent || '',
    desc: (svg.querySelector('desc') || {}).textContent || '',
    width: box.width, height: box.height, labels: labels,
    marks: svg.querySelectorAll('circle, polyline, rect, path').length,
  };
}))
"""


class Browser:
    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="mv-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        # The child reads commands on fd 3 and writes replies on fd 4. The pipes are moved out
        # of the way first (either may already be 3 or 4); every other descriptor of ours is
        # close-on-exec, so the browser inherits just these two.
        def wire():
            commands, replies = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(commands, 3)
            os.dup2(replies, 4)
        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
             "--user-data-dir=" + self.profile, "--window-size=1280,1000", "about:blank"],
            close_fds=False, preexec_fn=wire,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        return self.wait(lambda m: m.get("id") == self.next_id)

    def wait(self, matches, timeout=60):
        deadline = time.time() + timeout
        for index, event in enumerate(self.events):
            if matches(event):
                return self.events.pop(index)
        while time.time() < deadline:
            while b"\0" not in self.buffer:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            message = json.loads(raw)
            if matches(message):
                if "error" in message:
                    raise RuntimeError(f"{message['error']}")
                return message
            self.events.append(message)
        raise TimeoutError("no answer from chromium")

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def png_statistic(data):
    """Decodes an 8-bit RGB or RGBA PNG and measures how much of it is not background."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format depth={depth} colour={colour}"
    step = 3 if colour == 2 else 4
    stride = width * step
    raw = zlib.decompress(idat)
    previous = bytearray(stride)
    background = ink = 0
    colours = set()
    offset = 0
    for _ in range(height):
        kind = raw[offset]
        line = bytearray(raw[offset + 1:offset + 1 + stride])
        offset += 1 + stride
        if kind == 1:
            for i in range(step, stride):
                line[i] = (line[i] + line[i - step]) & 255
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 255
        elif kind == 3:
            for i in range(stride):
                left = line[i - step] if i >= step else 0
                line[i] = (line[i] + (left + previous[i]) // 2) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - step] if i >= step else 0
                b = previous[i]
                c = previous[i - step] if i >= step else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for i in range(0, stride, step * 2):
            pixel = bytes(line[i:i + 3])
            if pixel == b"\xff\xff\xff":
                background += 1
            else:
                ink += 1
                if len(colours) < 4096:
                    colours.add(pixel)
        previous = line
    return {"width": width, "height": height, "ink_share": ink / max(1, ink + background), "colours": len(colours)}


def main():
    page, screenshot = os.path.abspath(sys.argv[1]), sys.argv[2]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print(json.dumps({"skip": "chromium is not installed"}))
        return
    browser = Browser(chromium)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["result"]["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["result"]["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        url = "file://" + page
        browser.send("Page.navigate", {"url": url}, session=session)
        browser.wait(lambda m: m.get("method") == "Page.loadEventFired")
        charts = json.loads(browser.send(
            "Runtime.evaluate", {"expression": CHART_PROBE, "returnByValue": True}, session=session)["result"]["result"]["value"])
        size = browser.send(
            "Runtime.evaluate",
            {"expression": "JSON.stringify([document.documentElement.scrollWidth, document.documentElement.scrollHeight])",
             "returnByValue": True}, session=session)["result"]["result"]["value"]
        width, height = json.loads(size)
        # The whole page at half scale: every chart is in the picture, and the statistic is quick.
        shot = browser.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True,
             "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 0.5}}, session=session)
        data = base64.b64decode(shot["result"]["data"])
        with open(screenshot, "wb") as out:
            out.write(data)
        if len(sys.argv) > 3:
            top = browser.send(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True,
                 "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 2200), "scale": 1}}, session=session)
            with open(sys.argv[3], "wb") as out:
                out.write(base64.b64decode(top["result"]["data"]))
        errors, requests = [], []
        for event in browser.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(params["entry"].get("text", ""))
            elif method == "Network.loadingFailed":
                errors.append("failed to load: " + params.get("errorText", ""))
            elif method == "Network.requestWillBeSent" and params["request"]["url"] != url:
                requests.append(params["request"]["url"])
        print(json.dumps({"errors": errors, "requests": requests, "charts": charts, "png": png_statistic(data)}))
    finally:
        browser.close()


if __name__ == "__main__":
    main()
