/// <reference no-default-lib="true" />
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
/**
 * The recipe editor: CodeMirror 6 with YAML highlighting, line numbers and a lint gutter. Loaded
 * by the page only when the editor is first opened (its own chunk of the bundle).
 */
import { basicSetup, EditorView } from "npm:codemirror@6.0.2";
import { yaml } from "npm:@codemirror/lang-yaml@6.1.3";
import { type Diagnostic, lintGutter, setDiagnostics } from "npm:@codemirror/lint@6.9.8";

/** An issue the server's validator found, at a 1-based line and column. */
export interface EditorIssue {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

/** A YAML editor in `parent`; `onChange` runs after each edit. */
export function createEditor(parent: HTMLElement, onChange: () => void): EditorView {
  return new EditorView({
    parent,
    extensions: [
      basicSetup,
      yaml(),
      lintGutter(),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) onChange();
      }),
    ],
  });
}

/** Marks each issue in the editor, from its column to the end of its line. */
export function markIssues(view: EditorView, issues: readonly EditorIssue[]): void {
  const doc = view.state.doc;
  const diagnostics: Diagnostic[] = issues.map((i) => {
    const line = doc.line(Math.min(Math.max(i.line, 1), doc.lines));
    const from = Math.min(line.from + Math.max(i.col - 1, 0), line.to);
    return { from, to: Math.max(from + 1, line.to), severity: "error", message: i.message };
  });
  view.dispatch(setDiagnostics(view.state, diagnostics));
}

export type { EditorView };
