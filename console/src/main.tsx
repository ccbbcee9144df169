import { render } from 'preact';
import { Boot } from './app/boot.js';
import './styles.css';

// Relative URLs (assets, ./config, ../connections) resolve from the console's folder, so …/console
// must become …/console/ before anything loads.
if (!location.pathname.endsWith('/') && !location.pathname.endsWith('.html')) {
  location.replace(`${location.pathname}/${location.search}${location.hash}`);
} else {
  const root = document.getElementById('app');
  if (root) render(<Boot />, root);
}
