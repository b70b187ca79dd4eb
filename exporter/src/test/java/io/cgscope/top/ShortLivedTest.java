package io.cgscope.top;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.Source;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShortLivedTest {
    /** A clock the test moves. */
    static final class MovingClock extends Clock {
        Instant now = Instant.parse("2026-12-01T10:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }
    }

    private final MovingClock clock = new MovingClock();
    private final CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15), new FakeTicker(), clock);
    private final ShortLived shortLived = new ShortLived(index);

    ShortLivedTest() {
        index.root(1);
        index.flush();
    }

    private void create(long id, String name) {
        index.created(id, 1, name.getBytes(StandardCharsets.UTF_8), Source.EVENT);
        index.flush();
    }

    private void delete(long id, String name) {
        index.deleted(id, 1, name.getBytes(StandardCharsets.UTF_8), Source.EVENT);
        index.flush();
    }

    @Test
    void removedInTheLastMinuteAfterLivingLessThanAMinute() {
        create(10, "brief");
        create(11, "longer");
        clock.advance(Duration.ofSeconds(2));
        delete(10, "brief");
        assertEquals(new ShortLived.Count(1, true), shortLived.count());
        assertEquals(new ShortLived.Count(1, true), shortLived.count(), "each change counted once");
        clock.advance(Duration.ofSeconds(59));
        delete(11, "longer"); // lived 61 s
        assertEquals(1, shortLived.count().shortLived(), "brief died 59 s ago");
        clock.advance(Duration.ofSeconds(3));
        assertEquals(0, shortLived.count().shortLived(), "brief died over a minute ago");
    }

    @Test
    void aCgroupOfUnknownAgeIsNotShortLived() {
        index.created(20, 1, "old".getBytes(StandardCharsets.UTF_8), Source.SWEEP); // existed before cgscope
        index.flush();
        delete(20, "old");
        assertEquals(0, shortLived.count().shortLived());
    }

    @Test
    void changesThatLeftTheHistoryUnreadMakeTheCountALowerBound() {
        assertEquals(new ShortLived.Count(0, true), shortLived.count());
        int churned = CgroupIndex.HISTORY; // two changes each: half of them leave the history unread
        for (int i = 0; i < churned; i++) {
            create(1000 + i, "c" + i);
            delete(1000 + i, "c" + i);
        }
        ShortLived.Count c = shortLived.count();
        assertFalse(c.complete());
        assertTrue(c.shortLived() > 0 && c.shortLived() < churned, "a lower bound: " + c.shortLived());
        clock.advance(Duration.ofSeconds(61));
        assertEquals(new ShortLived.Count(0, true), shortLived.count(), "complete again a minute later");
    }
}
