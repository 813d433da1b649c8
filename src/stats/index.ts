/** Stats: per-thread stores, main-thread aggregation, common stat families, tag extraction. */
export * from './store';
export * from './aggregator';
export * from './histogram';
export * from './common-stats';
export * from './tags';
export * from './messages';
