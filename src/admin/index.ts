/** Admin interface: server, context contract, renderers, config dump builder. */
export * from './context';
export * from './server';
export * from './stats-render';
export * from './clusters-render';
export * from './config-dump';
export * from './logger-names';
