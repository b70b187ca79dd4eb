package io.cgscope.http;

import io.netty.channel.ChannelFactory;
import io.netty.channel.DefaultSelectStrategyFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.SelectStrategy;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.vertx.core.impl.transports.NioTransport;
import io.vertx.core.transport.Transport;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The listening socket, with the accept loop a node agent needs: it takes a socket from the
 * kernel's backlog only while HTTP is below its share of the fds ({@link Connections#mayAccept});
 * otherwise it stops asking (OP_ACCEPT off, so no busy loop over a full backlog) until a
 * connection closes, and the waiting clients stay in the backlog, which costs cgscope no fd.
 * A refused accept (EMFILE: the process is out of fds; ENFILE; ENOBUFS ...) goes to
 * {@link AcceptErrors} and pauses accepting for {@link #RETRY_MILLIS}.
 *
 * <p>netty's NIO server channel would instead accept without bound and, on EMFILE, fire the
 * exception down its pipeline, where it is logged as a warning with a stack trace once a second.
 * Vert.x builds its server's bootstrap itself; the one place to put another server channel is
 * its transport ({@link #transport}: Vert.x's NIO transport with this channel).
 *
 * <p>Threads: {@link #doReadMessages} runs on the acceptor's event loop; {@link #resume} is
 * called from the connections' loop.
 */
final class GuardedServerChannel extends NioServerSocketChannel {
    /** Pause after a refused accept (the kernel's reason rarely clears in less). */
    static final long RETRY_MILLIS = 100;

    private final Connections connections;
    private final AcceptErrors errors;
    private final AtomicBoolean paused = new AtomicBoolean();

    GuardedServerChannel(Connections connections, AcceptErrors errors) {
        this.connections = connections;
        this.errors = errors;
        connections.acceptor(this);
    }

    /**
     * Vert.x's NIO transport, with this channel for TCP servers, and event loops that tell
     * {@link Connections#selecting} before each select (netty's default strategy otherwise).
     */
    static Transport transport(Connections connections, AcceptErrors errors) {
        NioTransport nio = new NioTransport() {
            @Override
            public IoHandlerFactory ioHandlerFactory() {
                return NioIoHandler.newFactory(SelectorProvider.provider(), () -> {
                    SelectStrategy netty = DefaultSelectStrategyFactory.INSTANCE.newSelectStrategy();
                    return (selectNow, hasTasks) -> {
                        connections.selecting();
                        return netty.calculateStrategy(selectNow, hasTasks);
                    };
                });
            }

            @Override
            public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
                return domainSocket ? super.serverChannelFactory(true)
                        : () -> new GuardedServerChannel(connections, errors);
            }
        };
        return new Transport() {
            @Override
            public String name() {
                return "nio";
            }

            @Override
            public boolean available() {
                return true;
            }

            @Override
            public Throwable unavailabilityCause() {
                return null;
            }

            @Override
            public io.vertx.core.spi.transport.Transport implementation() {
                return nio;
            }
        };
    }

    @Override
    protected int doReadMessages(List<Object> buf) {
        connections.beforeAccept();
        if (!connections.mayAccept()) {
            pause();
            if (connections.mayAccept()) {
                resume(); // a connection closed between the check and the pause
            }
            return 0;
        }
        SocketChannel socket;
        try {
            socket = javaChannel().accept();
        } catch (IOException e) {
            refused(e);
            return 0;
        }
        if (socket == null) {
            return 0;
        }
        NioSocketChannel child;
        try {
            child = new NioSocketChannel(this, socket);
        } catch (RuntimeException e) { // configureBlocking(false) failed
            try {
                socket.close();
            } catch (IOException ignored) {
                // it is being given up anyway
            }
            refused(e);
            return 0;
        }
        connections.accepted(child);
        buf.add(child);
        return 1;
    }

    private void refused(Exception e) {
        errors.failed(e, connections.open());
        pause();
        eventLoop().schedule(this::resume, RETRY_MILLIS, TimeUnit.MILLISECONDS);
    }

    boolean paused() {
        return paused.get();
    }

    private void pause() {
        paused.set(true);
        config().setAutoRead(false);
    }

    /** Accepts again, from any thread; the change happens on the acceptor's loop, after its current read. */
    void resume() {
        if (!paused.compareAndSet(true, false)) {
            return;
        }
        if (eventLoop().inEventLoop()) {
            config().setAutoRead(true);
        } else {
            eventLoop().execute(() -> config().setAutoRead(true));
        }
    }
}
