// The code editor of the exercise and result pages, bundled by build.mjs into
// grader/web/static/editor.js. It enhances a plain <textarea> that stays in the form:
// the page works without script, and the textarea is always what the form submits
// (every change in the editor is copied into it).
//
// window.GraderEditor.attach(textarea, { markedLines: [3], maxBytes, say(message) }) returns
// the editor's handle: { view, setText(text), setMarkedLines(numbers), openFile(file) }.
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { EditorState, RangeSetBuilder, StateEffect, StateField } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  GutterMarker,
  gutterLineClass,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { classHighlighter } from "@lezer/highlight";

// Lines a diagnosis points at: a background on the line and on its number. The marks move
// with the text while the learner edits, so they stay on the line they were put on; a
// result that arrives while the page is open puts new ones (setMarkedLines).
const markLines = StateEffect.define();

const diagnosedGutter = new (class extends GutterMarker {
  constructor() {
    super();
    this.elementClass = "cm-diagnosed-gutter";
  }
})();

function lineMarks(doc, numbers) {
  const lines = new RangeSetBuilder();
  const gutter = new RangeSetBuilder();
  [...new Set(numbers)]
    .filter((n) => Number.isInteger(n) && n >= 1 && n <= doc.lines)
    .sort((a, b) => a - b)
    .forEach((n) => {
      const line = doc.line(n);
      lines.add(line.from, line.from, Decoration.line({ class: "cm-diagnosed-line" }));
      gutter.add(line.from, line.from, diagnosedGutter);
    });
  return { lines: lines.finish(), gutter: gutter.finish() };
}

function diagnosedLines(numbers) {
  return StateField.define({
    create: (state) => lineMarks(state.doc, numbers),
    update(marks, tr) {
      for (const effect of tr.effects) {
        if (effect.is(markLines)) { return lineMarks(tr.state.doc, effect.value); }
      }
      return tr.docChanged ? { lines: marks.lines.map(tr.changes), gutter: marks.gutter.map(tr.changes) } : marks;
    },
    provide: (field) => [
      EditorView.decorations.from(field, (marks) => marks.lines),
      gutterLineClass.from(field, (marks) => marks.gutter),
    ],
  });
}

// A file opened from the file field or dropped on the editor replaces the editor's text, when
// it is a Python file the grader would take; otherwise `say` tells why it was not opened.
function readPythonFile(file, maxBytes, say) {
  if (!/\.py$/i.test(file.name)) {
    say(file.name + " is not a Python file: choose a file whose name ends in .py.");
    return Promise.resolve(null);
  }
  if (maxBytes && file.size > maxBytes) {
    say(file.name + " is larger than the " + Math.round(maxBytes / 1024) + " KB limit.");
    return Promise.resolve(null);
  }
  return file.text().then((text) => {
    if (text.includes("\u0000") || text.includes("\ufffd")) {
      say(file.name + " is not UTF-8 text, so it cannot be a Python file the grader reads.");
      return null;
    }
    say("Opened " + file.name + " in the editor. Check it, then submit.");
    return text;
  });
}

// The part of the text an input event is about to replace, or null when it replaces nothing.
// Read from the page, not from the editor's state, whose selection may not have caught up with
// the page's yet: the event's target range, or the page's selection when the event has none.
function replacedRange(event, view) {
  const targets = event.getTargetRanges();
  let range = targets.length === 1 ? targets[0] : null;
  if (targets.length === 0) {
    const selection = view.root.getSelection();
    range = selection && selection.rangeCount === 1 ? selection.getRangeAt(0) : null;
  }
  if (!range || range.collapsed) { return null; }
  if (!view.contentDOM.contains(range.startContainer) || !view.contentDOM.contains(range.endContainer)) { return null; }
  const from = view.posAtDOM(range.startContainer, range.startOffset);
  const to = view.posAtDOM(range.endContainer, range.endOffset);
  return from < to ? { from, to } : null;
}

function attach(textarea, options = {}) {
  const label = textarea.id ? document.querySelector('label[for="' + textarea.id + '"]') : null;
  const describedBy = textarea.getAttribute("data-editor-describedby") || textarea.getAttribute("aria-describedby") || "";
  const contentAttributes = {
    "aria-multiline": "true",
    // Focusable already (it is contenteditable); said outright so checkers see that the
    // scrolling box around it holds something a keyboard reaches.
    tabindex: "0",
    spellcheck: "false",
    autocapitalize: "off",
    autocorrect: "off",
    translate: "no",
  };
  if (label) {
    if (!label.id) { label.id = textarea.id + "-label"; }
    contentAttributes["aria-labelledby"] = label.id;
  }
  if (describedBy) { contentAttributes["aria-describedby"] = describedBy; }

  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        indentOnInput(),
        bracketMatching(),
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        python(),
        // Long lines wrap, as code does everywhere on the site, instead of scrolling sideways.
        EditorView.lineWrapping,
        syntaxHighlighting(classHighlighter),
        diagnosedLines(options.markedLines || []),
        // Tab indents; Escape then Tab leaves the editor (CodeMirror's own way out for keyboards).
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of(contentAttributes),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) { textarea.value = update.state.doc.toString(); }
        }),
        EditorView.domEventHandlers({
          // Typing over a selection: left to the browser, Chrome merges the selected lines with
          // inline styles, which the Content-Security-Policy refuses (and reports). The editor
          // makes the change itself instead. Compositions (input methods) are left alone.
          beforeinput(event, view) {
            if (event.inputType !== "insertText" || event.data === null || view.composing) { return false; }
            const replaced = replacedRange(event, view);
            if (replaced === null) { return false; }
            event.preventDefault();
            view.dispatch({
              changes: { from: replaced.from, to: replaced.to, insert: event.data },
              selection: { anchor: replaced.from + event.data.length },
              scrollIntoView: true,
              userEvent: "input.type",
            });
            return true;
          },
          drop(event) {
            const file = event.dataTransfer && event.dataTransfer.files[0];
            if (!file) { return false; }  // dropped text: CodeMirror inserts it
            event.preventDefault();
            openFile(file);
            return true;
          },
        }),
      ],
    }),
  });
  textarea.parentNode.insertBefore(view.dom, textarea);
  textarea.hidden = true;
  // Made apart from the page, the editor guessed its line heights; now in the page, it measures them.
  view.requestMeasure();
  // The label now names the editor: clicking it puts the cursor there, as it did for the textarea.
  if (label) {
    label.removeAttribute("for");
    label.addEventListener("click", () => view.focus());
  }

  function setText(text) {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, effects: markLines.of([]) });
    textarea.value = text;
  }
  function setMarkedLines(numbers) {
    view.dispatch({ effects: markLines.of(numbers) });
  }
  function openFile(file) {
    return readPythonFile(file, options.maxBytes, options.say || (() => {})).then((text) => {
      if (text === null) { return false; }
      setText(text);
      view.focus();
      return true;
    });
  }
  return { view, setText, setMarkedLines, openFile };
}

window.GraderEditor = { attach };
