/**
 * cgscope's wiring: {@code Main} (flags to components to start, the exit statuses), {@code Agent}
 * (the components in start order, one registry, one stop) and the components themselves
 * ({@code IndexComponent}, {@code BpfComponent}, {@code WorkloadComponent}, {@code ProgramsComponent};
 * {@code http.HttpComponent}), which hierarchies are indexed ({@code HierarchySetup}) and how each
 * is kept ({@code HierarchyIndexing}: the source chain of {@code --cgroup.index-mode}), the
 * privilege drop.
 *
 * <p>May import every cgscope package: this is where they meet. {@code http} and {@code metrics}
 * import {@code Component}, {@code StartupException} and {@code BuildInfo} from here, nothing else.
 */
package io.cgscope;
