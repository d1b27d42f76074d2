package io.pgwarden.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TagsTest {

    @Test
    void describesTagsPerDirectionBecauseTheSameByteMeansDifferentThings() {
        assertThat(Tags.describeFrontend((byte) 'S')).isEqualTo("Sync");
        assertThat(Tags.describeBackend((byte) 'S')).isEqualTo("ParameterStatus");
        assertThat(Tags.describeFrontend((byte) 'Q')).isEqualTo("Query");
        assertThat(Tags.describeFrontend((byte) 'P')).isEqualTo("Parse");
        assertThat(Tags.describeBackend((byte) 'Z')).isEqualTo("ReadyForQuery");
        assertThat(Tags.describeBackend((byte) '1')).isEqualTo("ParseComplete");
    }

    @Test
    void describesUnknownTagsWithTheirHexValue() {
        assertThat(Tags.describeFrontend((byte) 'x')).isEqualTo("unknown 'x' (0x78)");
        assertThat(Tags.describeBackend((byte) 'x')).isEqualTo("unknown 'x' (0x78)");
        assertThat(Tags.describeBackend((byte) 0)).isEqualTo("unknown (0x00)");
        assertThat(Tags.describeFrontend((byte) 0xff)).isEqualTo("unknown (0xff)");
    }
}
