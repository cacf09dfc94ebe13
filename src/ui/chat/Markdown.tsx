/**
 * Model answers as markdown. react-markdown builds React elements from a syntax tree and never
 * uses innerHTML, and its default urlTransform drops `javascript:` and other unsafe URLs. We chose
 * it over marked + DOMPurify for that reason: with marked, safety rests on sanitizing an HTML
 * string after the fact; here no HTML string exists. Raw HTML in an answer (`<script>`,
 * `<img onerror>`, `<svg onload>`) is turned into plain text first (rawAsText), so the user sees
 * what the model wrote and nothing runs. rehype-sanitize (GitHub's schema) then checks every
 * element and attribute as a second line, and rehype-highlight (highlight.js grammars through
 * lowlight) adds code classes. All are maintained unified/highlight.js packages.
 */
import { memo } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import rehypeSanitize from 'rehype-sanitize';
import remarkGfm from 'remark-gfm';

interface HastNode {
  type: string;
  value?: string;
  children?: HastNode[];
}

/** A rehype plugin: every raw HTML fragment becomes a text node, shown as written. */
function rawAsText() {
  const visit = (node: HastNode) => {
    node.children?.forEach((child, index) => {
      if (child.type === 'raw') node.children![index] = { type: 'text', value: child.value ?? '' };
      else visit(child);
    });
  };
  return (tree: HastNode) => visit(tree);
}

const components: Components = {
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer" className="text-sky-700 underline dark:text-sky-400">
        {children}
      </a>
    ) : (
      <span className="underline decoration-dotted" title="안전하지 않은 링크는 제거되었습니다 (unsafe link removed)">
        {children}
      </span>
    ),
  // Answers never make the page fetch anything: an image is shown as a link to it.
  img: ({ src, alt }) =>
    typeof src === 'string' && src ? (
      <a href={src} target="_blank" rel="noopener noreferrer" className="text-sky-700 underline dark:text-sky-400">
        [이미지: {alt || src}]
      </a>
    ) : (
      <span>[이미지: {alt}]</span>
    ),
};

export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={[remarkGfm]} rehypePlugins={[rawAsText, rehypeSanitize, [rehypeHighlight, { detect: false }]]} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
