/**
 * Model answers as markdown. react-markdown builds React elements from a syntax tree and never
 * uses innerHTML: raw HTML in an answer (`<script>`, `<img onerror>`, `<svg onload>`) stays
 * visible text, and its default urlTransform drops `javascript:` and other unsafe URLs. We chose
 * it over marked + DOMPurify for that reason: with marked, safety rests on sanitizing an HTML
 * string after the fact; here no HTML string exists. rehype-sanitize (GitHub's schema) runs too,
 * as a second line should raw HTML ever be enabled, then rehype-highlight (highlight.js grammars
 * through lowlight) adds code classes. All are maintained unified/highlight.js packages.
 */
import { memo } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import rehypeSanitize from 'rehype-sanitize';
import remarkGfm from 'remark-gfm';

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
      <ReactMarkdown remarkPlugins={[remarkGfm]} rehypePlugins={[rehypeSanitize, [rehypeHighlight, { detect: false }]]} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
